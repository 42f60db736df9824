// Package pytext reproduces the few Python text behaviours gunicorn's
// messages and parsing depend on: shlex.split, int(), and repr() of str and
// float. gonicorn's config errors and control-socket replies embed them, and
// users compare those texts with gunicorn's.
package pytext
