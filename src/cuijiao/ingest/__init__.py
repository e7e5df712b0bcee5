"""Reading clerks' exports: files → rows → typed records, and the importer."""
