package h2

import "testing"

func TestTransitions(t *testing.T) {
	tests := []struct {
		from state
		ev   event
		to   state
		ok   bool
	}{
		{stateIdle, evRecvHeaders, stateOpen, true},
		{stateIdle, evRecvEnd, stateIdle, false},
		{stateIdle, evSendEnd, stateIdle, false},
		{stateIdle, evReset, stateIdle, false},
		{stateOpen, evRecvHeaders, stateOpen, false},
		{stateOpen, evRecvEnd, stateHalfClosedRemote, true},
		{stateOpen, evSendEnd, stateHalfClosedLocal, true},
		{stateOpen, evReset, stateClosed, true},
		{stateHalfClosedLocal, evRecvEnd, stateClosed, true},
		{stateHalfClosedLocal, evSendEnd, stateHalfClosedLocal, false},
		{stateHalfClosedLocal, evReset, stateClosed, true},
		{stateHalfClosedRemote, evRecvEnd, stateHalfClosedRemote, false},
		{stateHalfClosedRemote, evSendEnd, stateClosed, true},
		{stateHalfClosedRemote, evReset, stateClosed, true},
		{stateClosed, evRecvHeaders, stateClosed, false},
		{stateClosed, evRecvEnd, stateClosed, false},
		{stateClosed, evSendEnd, stateClosed, false},
		{stateClosed, evReset, stateClosed, false},
	}
	for _, tt := range tests {
		got, ok := tt.from.next(tt.ev)
		if ok != tt.ok || (ok && got != tt.to) {
			t.Errorf("%v on %v: got %v, %v; want %v, %v", tt.from, tt.ev, got, ok, tt.to, tt.ok)
		}
	}
}

func TestStateNames(t *testing.T) {
	for s := state(0); s < numStates; s++ {
		if stateNames[s] == "" {
			t.Errorf("state %d has no name", s)
		}
	}
	for e := event(0); e < numEvents; e++ {
		if eventNames[e] == "" {
			t.Errorf("event %d has no name", e)
		}
	}
	if got := state(77).String(); got != "invalid" {
		t.Errorf("state(77): got %q; want %q", got, "invalid")
	}
}

func TestOpenSides(t *testing.T) {
	tests := []struct {
		s             state
		remote, local bool
	}{
		{stateIdle, false, false},
		{stateOpen, true, true},
		{stateHalfClosedLocal, true, false},
		{stateHalfClosedRemote, false, true},
		{stateClosed, false, false},
	}
	for _, tt := range tests {
		if got := tt.s.remoteOpen(); got != tt.remote {
			t.Errorf("%v remoteOpen: got %v; want %v", tt.s, got, tt.remote)
		}
		if got := tt.s.localOpen(); got != tt.local {
			t.Errorf("%v localOpen: got %v; want %v", tt.s, got, tt.local)
		}
	}
}
