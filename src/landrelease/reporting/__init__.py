"""Reports rendered for people and other programs: CSV tables and the PDF a national authority sends."""
