"""The public board's page: plain HTML, CSS and one ES module, served by Steward."""
