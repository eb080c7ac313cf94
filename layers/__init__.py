"""The data model on PostGIS: settings, database, feature layers, accounts, audit."""
