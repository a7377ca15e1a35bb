"""Where articles come from: files and their parsing, web pages, feeds, watched folders."""
