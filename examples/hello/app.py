"""The example app: `gonicorn app:app` from this directory (see scripts/run-example)."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from gonicorn!\n"


@app.route("/info")
def info():
    return jsonify(method=request.method, path=request.path,
                   server=request.environ.get("SERVER_SOFTWARE"))
