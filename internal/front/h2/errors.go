package h2

import (
	"errors"
	"strconv"

	"golang.org/x/net/http2"
)

// ErrCode is an HTTP/2 error code (RFC 9113 §7).
type ErrCode = http2.ErrCode

// Error codes the front sends with Stream.Reset.
const (
	ErrCodeNo       = http2.ErrCodeNo
	ErrCodeInternal = http2.ErrCodeInternal
	ErrCodeCancel   = http2.ErrCodeCancel
)

var (
	// ErrStreamReset is what a stream's body reads and writes return once
	// the client reset the stream (RST_STREAM).
	ErrStreamReset = errors.New("h2: the client reset the stream")
	// ErrConnClosed is what they return once the connection is gone.
	ErrConnClosed = errors.New("h2: the connection is closed")
	// ErrStreamAborted is what they return after the server reset the
	// stream for a protocol error of the client (a body longer or shorter
	// than its content-length, DATA past the window).
	ErrStreamAborted = errors.New("h2: the stream was reset for a protocol error of the client")
	// ErrResponseDone is returned by writes after End or Reset.
	ErrResponseDone = errors.New("h2: the response on this stream is already complete or reset")
	// errTimeout ends a connection that sent no request in time.
	errTimeout = errors.New("h2: no request headers before the header timeout")
	errIdle    = errors.New("h2: idle timeout")
	errDrained = errors.New("h2: shut down after GOAWAY")
)

// connError is a connection error (RFC 9113 §5.4.1): GOAWAY with code,
// then close.
type connError struct {
	code   ErrCode
	reason string
}

func (e connError) Error() string {
	return "h2: connection error " + e.code.String() + ": " + e.reason
}

// streamError is a stream error (RFC 9113 §5.4.2): RST_STREAM with code;
// the connection carries on.
type streamError struct {
	id     uint32
	code   ErrCode
	reason string
}

func (e streamError) Error() string {
	return "h2: stream " + strconv.FormatUint(uint64(e.id), 10) + " error " + e.code.String() + ": " + e.reason
}
