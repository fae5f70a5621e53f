"""Configuration errors name the dotted key and say what to do."""

# sysexits.h EX_CONFIG: the exit code reserved for configuration errors.
EXIT_CONFIG = 78


class ConfigError(Exception):
    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)
