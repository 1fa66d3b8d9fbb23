# The contributing deliveries of each lineage, aggregated per member, plot and collection point. Rows written before
# this migration have an empty summary; readers aggregate them live until `manage.py lineage_rebuild` is run.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('traceability', '0004_lineage'),
    ]

    operations = [
        migrations.AddField(
            model_name='lineage',
            name='summary',
            field=models.JSONField(blank=True, default=dict, verbose_name='contributing deliveries, aggregated'),
        ),
    ]
