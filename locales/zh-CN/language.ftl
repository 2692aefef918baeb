# The language itself, as its speakers name it.
language-name = 简体中文
