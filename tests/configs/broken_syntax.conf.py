# A config file that does not compile.
workers = (2
timeout = 600
