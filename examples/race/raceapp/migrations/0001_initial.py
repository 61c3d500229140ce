from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []  # noqa: RUF012 (Django migration layout)

    operations = [  # noqa: RUF012
        migrations.CreateModel(
            name="Message",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("msgid", models.CharField(max_length=64, unique=True)),
                ("recipient", models.CharField(blank=True, max_length=200)),
                ("text", models.TextField(blank=True)),
                ("status", models.CharField(default="NEW", max_length=20)),
            ],
        ),
    ]
