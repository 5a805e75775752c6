"""Document.files_sha256: the hash of the current files, kept by the file services.

Existing rows get "" (not known: the workflow computes it from the file versions
until the next file is added); new documents start with the hash of no files.
"""

from django.db import migrations, models

EMPTY_FILES_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class Migration(migrations.Migration):
    dependencies = [("documents", "0003_document_search_text")]

    operations = [
        migrations.AddField(
            model_name="document",
            name="files_sha256",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=64
            ),
        ),
        migrations.AlterField(
            model_name="document",
            name="files_sha256",
            field=models.CharField(
                blank=True, default=EMPTY_FILES_SHA256, editable=False, max_length=64
            ),
        ),
    ]
