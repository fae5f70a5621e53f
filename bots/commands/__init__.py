"""Staff commands in Element: the table every concern adds its rows to, and the dispatcher."""
