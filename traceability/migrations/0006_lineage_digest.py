# What the public trace page and the due-diligence statements read of each lineage (`traceability.digest`): the
# steps, the contributing plots, the EUDR verdict with its reasons, regions and producers. Rows written before this
# migration have an empty digest; readers compute and store it on first read, or run `manage.py lineage_rebuild`.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('traceability', '0005_lineage_summary'),
    ]

    operations = [
        migrations.AddField(
            model_name='lineage',
            name='digest',
            field=models.JSONField(blank=True, default=dict, verbose_name='what the trace page and statements read'),
        ),
    ]
