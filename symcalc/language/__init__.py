"""Reading formulas: the Lark grammar's parser, LaTeX and Unicode input, and arguments as the API takes them."""
