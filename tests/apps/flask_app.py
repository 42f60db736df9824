"""Flask app with the routes the e2e suites use."""
import time

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask\n"


@app.route("/json")
def as_json():
    return jsonify(ok=True, items=[1, 2, 3])


@app.route("/echo", methods=["POST"])
def echo():
    data = request.get_data()
    return Response(data, content_type=request.content_type or "application/octet-stream")


@app.route("/stream")
def stream():
    def gen():
        for i in range(5):
            yield f"chunk {i}\n"
            time.sleep(0.01)
    return Response(gen(), content_type="text/plain")


@app.route("/raise")
def boom():
    raise RuntimeError("flask route failed on purpose")
