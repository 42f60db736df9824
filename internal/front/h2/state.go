package h2

// state is a stream's state (RFC 9113 §5.1) as the server sees it. A
// server that never pushes has no reserved states.
type state uint8

const (
	stateIdle state = iota
	stateOpen
	stateHalfClosedLocal  // our END_STREAM is out; the client still sends
	stateHalfClosedRemote // the client's END_STREAM is in; we still send
	stateClosed
	numStates
)

// event is what moves a stream from one state to the next.
type event uint8

const (
	evRecvHeaders event = iota // a request header block opens the stream
	evRecvEnd                  // END_STREAM from the client
	evSendEnd                  // our END_STREAM
	evReset                    // RST_STREAM, sent or received
	numEvents
)

// stateBad marks a transition the state machine does not allow.
const stateBad state = 255

// transitions[s][e] is the state after e in state s. It is the whole of
// §5.1's diagram for a server: anything stateBad is a protocol error the
// caller has to map to a stream or connection error.
var transitions = [numStates][numEvents]state{
	stateIdle:             {evRecvHeaders: stateOpen, evRecvEnd: stateBad, evSendEnd: stateBad, evReset: stateBad},
	stateOpen:             {evRecvHeaders: stateBad, evRecvEnd: stateHalfClosedRemote, evSendEnd: stateHalfClosedLocal, evReset: stateClosed},
	stateHalfClosedLocal:  {evRecvHeaders: stateBad, evRecvEnd: stateClosed, evSendEnd: stateBad, evReset: stateClosed},
	stateHalfClosedRemote: {evRecvHeaders: stateBad, evRecvEnd: stateBad, evSendEnd: stateClosed, evReset: stateClosed},
	stateClosed:           {evRecvHeaders: stateBad, evRecvEnd: stateBad, evSendEnd: stateBad, evReset: stateBad},
}

var stateNames = [numStates]string{
	stateIdle:             "idle",
	stateOpen:             "open",
	stateHalfClosedLocal:  "half-closed (local)",
	stateHalfClosedRemote: "half-closed (remote)",
	stateClosed:           "closed",
}

var eventNames = [numEvents]string{
	evRecvHeaders: "recv HEADERS",
	evRecvEnd:     "recv END_STREAM",
	evSendEnd:     "send END_STREAM",
	evReset:       "RST_STREAM",
}

func (s state) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "invalid"
}

func (e event) String() string {
	if e < numEvents {
		return eventNames[e]
	}
	return "invalid"
}

// next is the state after e; ok is false when s does not allow e.
func (s state) next(e event) (state, bool) {
	if s >= numStates || e >= numEvents {
		return s, false
	}
	n := transitions[s][e]
	return n, n != stateBad
}

// remoteOpen reports whether the client may still send DATA.
func (s state) remoteOpen() bool { return s == stateOpen || s == stateHalfClosedLocal }

// localOpen reports whether we may still send HEADERS or DATA.
func (s state) localOpen() bool { return s == stateOpen || s == stateHalfClosedRemote }
