# For precedence tests: file < GUNICORN_CMD_ARGS < command line.
workers = 7
