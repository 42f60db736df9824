# Same shape as the seed's config but with 2 workers and a marker setting the tests can see.
import os

worker_class = 'sync'
timeout = '600'
workers = 2
accesslog = os.getenv("ACCESS_LOG", "-")
errorlog = os.getenv("ERROR_LOG", "-")
proc_name = 'gonicorn-config-test'
not_a_setting = 'unknown names are ignored'
