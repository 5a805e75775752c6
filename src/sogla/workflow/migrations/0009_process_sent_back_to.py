from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workflow', '0008_routeversion_revision'),
    ]

    operations = [
        migrations.AddField(
            model_name='process',
            name='sent_back_to',
            field=models.CharField(blank=True, max_length=60),
        ),
    ]
