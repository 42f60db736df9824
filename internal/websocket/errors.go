package websocket

import (
	"errors"
	"strconv"
)

// Error is a violation by the peer. Code is the close code to send before closing
// the connection: [CloseProtocolError], [CloseInvalidData] or [CloseTooBig].
type Error struct {
	Code   uint16
	Msg    string // fixed text, compared by errors.Is
	Detail string // the values involved, if any
}

func (e *Error) Error() string {
	s := "websocket: " + e.Msg
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s + " (close " + strconv.Itoa(int(e.Code)) + ")"
}

// with returns a copy of e with detail, still matching e under errors.Is.
func (e *Error) with(detail string) *Error {
	c := *e
	c.Detail = detail
	return &c
}

func protoErr(msg string) *Error { return &Error{Code: CloseProtocolError, Msg: msg} }

// Sentinels for the conditions tests and callers may want to tell apart; match them
// with errors.Is (the comparison is by code and message).
var (
	ErrUnmasked        = protoErr("client frame is not masked (RFC 6455 section 5.1)")
	ErrMasked          = protoErr("server frame is masked (RFC 6455 section 5.1)")
	ErrReservedBits    = protoErr("reserved bits RSV2/RSV3 set without a negotiated extension")
	ErrUnexpectedRSV1  = protoErr("RSV1 set but permessage-deflate was not negotiated, or on a continuation or control frame")
	ErrReservedOpcode  = protoErr("reserved opcode")
	ErrControlTooLong  = protoErr("control frame payload over 125 bytes")
	ErrControlFragment = protoErr("fragmented control frame")
	ErrLengthEncoding  = protoErr("payload length not in its shortest form, or over 2^63-1")
	ErrContinuation    = protoErr("continuation frame without a message in progress")
	ErrExpectedCont    = protoErr("new data frame while a fragmented message is in progress")
	ErrCloseLength     = protoErr("close frame payload of 1 byte")
	ErrCloseCode       = protoErr("close code not allowed on the wire")
	ErrInvalidUTF8     = &Error{Code: CloseInvalidData, Msg: "text message is not valid UTF-8"}
	ErrCloseUTF8       = &Error{Code: CloseInvalidData, Msg: "close reason is not valid UTF-8"}
	ErrInflate         = &Error{Code: CloseInvalidData, Msg: "compressed message does not inflate (RFC 7692)"}
	ErrTooBig          = &Error{Code: CloseTooBig, Msg: "message over the maximum size"}
)

// Is lets errors.Is match an *Error with the same code and message, so copies with a
// Detail still match their sentinel.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && t.Msg == e.Msg
}

// CloseCodeOf returns the close code to send for err: the code of an [*Error], else
// [CloseAbnormal] (the connection failed or the peer went away; nothing can be sent).
func CloseCodeOf(err error) uint16 {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CloseAbnormal
}
