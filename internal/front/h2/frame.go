package h2

import (
	"encoding/binary"

	"golang.org/x/net/http2"
)

// The writer appends frames to a byte buffer itself: the Framer's write
// side does one Write per frame, and the point of the writer is to put
// the frames of many streams into one write(2).

const frameHeaderLen = 9

// Frame flags we set (RFC 9113 §6).
const (
	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
)

// clientPreface is the client connection preface (RFC 9113 §3.4).
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

func appendFrameHeader(dst []byte, length int, t http2.FrameType, flags byte, id uint32) []byte {
	return append(dst, byte(length>>16), byte(length>>8), byte(length), byte(t), flags,
		byte(id>>24)&0x7f, byte(id>>16), byte(id>>8), byte(id))
}

func appendSettings(dst []byte, ss []http2.Setting) []byte {
	dst = appendFrameHeader(dst, 6*len(ss), http2.FrameSettings, 0, 0)
	for _, s := range ss {
		dst = binary.BigEndian.AppendUint16(dst, uint16(s.ID))
		dst = binary.BigEndian.AppendUint32(dst, s.Val)
	}
	return dst
}

func appendSettingsAck(dst []byte) []byte {
	return appendFrameHeader(dst, 0, http2.FrameSettings, flagAck, 0)
}

func appendWindowUpdate(dst []byte, id uint32, inc uint32) []byte {
	dst = appendFrameHeader(dst, 4, http2.FrameWindowUpdate, 0, id)
	return binary.BigEndian.AppendUint32(dst, inc&0x7fffffff)
}

func appendRSTStream(dst []byte, id uint32, code ErrCode) []byte {
	dst = appendFrameHeader(dst, 4, http2.FrameRSTStream, 0, id)
	return binary.BigEndian.AppendUint32(dst, uint32(code))
}

func appendPingAck(dst []byte, data [8]byte) []byte {
	dst = appendFrameHeader(dst, 8, http2.FramePing, flagAck, 0)
	return append(dst, data[:]...)
}

func appendGoAway(dst []byte, lastID uint32, code ErrCode, debug string) []byte {
	dst = appendFrameHeader(dst, 8+len(debug), http2.FrameGoAway, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, lastID&0x7fffffff)
	dst = binary.BigEndian.AppendUint32(dst, uint32(code))
	return append(dst, debug...)
}
