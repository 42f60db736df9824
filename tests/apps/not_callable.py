"""The app object is not callable: gunicorn refuses it with 'Application object must be callable.'"""
app = 42
