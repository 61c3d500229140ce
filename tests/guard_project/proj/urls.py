from django.urls import path
from shop import views

urlpatterns = [
    path("orders/", views.place_order),
    path("orders/fixed/", views.place_order_fixed),
    path("orders/celery-fixed/", views.place_order_celery_fixed),
    path("reviews/", views.review),
    path("notify/<str:kind>/", views.notify),
    path("signup/", views.signup),
    path("outbox/", views.outbox),
    path("djangoq/orm/", views.djangoq_orm),
    path("djangoq/list/", views.djangoq_list),
]
