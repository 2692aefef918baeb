# The language itself, as its speakers name it.
language-name = English
