"""Reading and writing files: other network formats, and safe output files."""
