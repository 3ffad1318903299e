"""Reading formulas: the Lark grammar's parser, LaTeX and Unicode input, and the conversion of
the arguments the API takes."""
