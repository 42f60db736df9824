"""The seed's eventlet example: a Flask app that keeps a background Thread stopped by an
Event (`thread = Thread(); thread_stop_event = Event()`), run with --worker-class eventlet.

Besides the WSGI contract of fw_flask_gevent (/health, /scope, /echo, /sse, /sleep):
  GET /thread/start  starts the background thread (once); it counts ticks every 10 ms
  GET /thread/ticks  the count so far
  GET /thread/stop   sets the stop event and joins the thread
"""
from threading import Event, Thread
import time

from flask import jsonify

from fw_flask_gevent import app

thread = Thread()
thread_stop_event = Event()
ticks = [0]


def tick():
    while not thread_stop_event.is_set():
        ticks[0] += 1
        time.sleep(0.01)


@app.route("/thread/start")
def thread_start():
    global thread
    if not thread.is_alive():
        thread_stop_event.clear()
        thread = Thread(target=tick, daemon=True)
        thread.start()
    return jsonify(alive=thread.is_alive())


@app.route("/thread/ticks")
def thread_ticks():
    return jsonify(ticks=ticks[0], alive=thread.is_alive())


@app.route("/thread/stop")
def thread_stop():
    thread_stop_event.set()
    thread.join(2)
    return jsonify(alive=thread.is_alive())
