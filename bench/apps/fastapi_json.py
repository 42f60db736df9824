"""FastAPI JSON app, the ASGI counterpart of flask_json.

The handler is `async def` so it runs on the event loop, not in the
thread pool FastAPI uses for plain `def` handlers.
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def index():
    return {"message": "Hello, World!"}
