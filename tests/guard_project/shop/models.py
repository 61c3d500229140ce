from django.db import models


class Order(models.Model):
    item = models.CharField(max_length=50)


class Review(models.Model):
    text = models.TextField()
