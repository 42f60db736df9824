"""Flask JSON app: a typical small framework request (about 75 µs in-process)."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(message="Hello, World!")
