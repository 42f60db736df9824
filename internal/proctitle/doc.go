// Package proctitle gives the Go master the process title gunicorn's master
// has with setproctitle ("gonicorn: master [NAME]"), as ps and
// /proc/PID/cmdline show it, so that monitoring that looks for the master
// by its title finds it.
//
// On Linux the title is written over the memory of the original argv,
// which is where the kernel reads the command line from. That memory is
// only as long as the command line gonicorn was started with, so a longer
// title is cut short. Keep must run first in main: it copies os.Args so
// nothing in the program still points into the memory Set overwrites.
package proctitle
