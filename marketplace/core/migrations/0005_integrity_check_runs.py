
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_outboxmessage'),
    ]

    operations = [
        migrations.CreateModel(
            name='CheckRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50, unique=True, verbose_name='check')),
                ('checked_at', models.DateTimeField(verbose_name='checked at')),
                ('full', models.BooleanField(default=False, verbose_name='full rescan')),
                ('last_full_at', models.DateTimeField(blank=True, null=True, verbose_name='last full rescan')),
                ('checkpoint', models.JSONField(blank=True, default=dict, verbose_name='checkpoint')),
                ('problems', models.JSONField(blank=True, default=list, verbose_name='problems')),
                ('checked', models.JSONField(blank=True, default=dict, verbose_name='what was checked')),
            ],
            options={
                'verbose_name': 'check run',
                'verbose_name_plural': 'check runs',
            },
        ),
    ]
