"""The language server: a thin layer from LSP documents to the analysis and from findings to LSP."""
