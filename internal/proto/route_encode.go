package proto

import "strconv"

// Route encoders. An empty account writes the form of a route pinned to
// that account (the receiver knows it from the connection); an empty queue
// writes plain interest. None of them allocate when b has room.

// AppendRouteSub appends "RS+ [account] subject [queue weight]\r\n".
// weight is the number of queue members on this server, at least 1.
func AppendRouteSub(b, account, subject, queue []byte, weight int) []byte {
	b = append(b, "RS+ "...)
	b = appendInterest(b, nil, account, subject, queue)
	return appendWeight(b, queue, weight)
}

// AppendRouteUnsub appends "RS- [account] subject [queue]\r\n".
func AppendRouteUnsub(b, account, subject, queue []byte) []byte {
	b = append(b, "RS- "...)
	b = appendInterest(b, nil, account, subject, queue)
	return append(b, '\r', '\n')
}

// AppendLeafSub appends "LS+ origin [account] subject [queue weight]\r\n"
// for interest that came from a leafnode of cluster origin (not empty).
// Send it only to a peer that announced lnoc; others get RS+.
func AppendLeafSub(b, origin, account, subject, queue []byte, weight int) []byte {
	b = append(b, "LS+ "...)
	b = appendInterest(b, origin, account, subject, queue)
	return appendWeight(b, queue, weight)
}

// AppendLeafUnsub appends "LS- [origin] [account] subject [queue]\r\n".
// The origin goes only to a peer that announced lnocu; pass nil otherwise.
func AppendLeafUnsub(b, origin, account, subject, queue []byte) []byte {
	b = append(b, "LS- "...)
	b = appendInterest(b, origin, account, subject, queue)
	return append(b, '\r', '\n')
}

func appendInterest(b, origin, account, subject, queue []byte) []byte {
	if len(origin) > 0 {
		b = append(b, origin...)
		b = append(b, ' ')
	}
	if len(account) > 0 {
		b = append(b, account...)
		b = append(b, ' ')
	}
	b = append(b, subject...)
	if len(queue) > 0 {
		b = append(b, ' ')
		b = append(b, queue...)
	}
	return b
}

func appendWeight(b, queue []byte, weight int) []byte {
	if len(queue) > 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(weight), 10)
	}
	return append(b, '\r', '\n')
}

// AppendRouteMsgHeader appends the control line of a routed message: HMSG
// when hdrArg is set, RMSG otherwise. Queues are the receiver's queue
// groups this message is for: "+ reply queue..." with a reply,
// "| queue..." without. Sizes are decimal tokens, repeated as the
// publisher wrote them. The payload and its CRLF follow separately.
func AppendRouteMsgHeader(b, account, subject, reply []byte, queues [][]byte, hdrArg, sizeArg []byte) []byte {
	if len(hdrArg) > 0 {
		b = append(b, "HMSG "...)
	} else {
		b = append(b, "RMSG "...)
	}
	if len(account) > 0 {
		b = append(b, account...)
		b = append(b, ' ')
	}
	b = appendMsgRest(b, subject, reply, queues)
	if len(hdrArg) > 0 {
		b = append(b, hdrArg...)
		b = append(b, ' ')
	}
	b = append(b, sizeArg...)
	return append(b, '\r', '\n')
}

// AppendLeafMsgHeader appends the control line of an LMSG: a message that
// came from a leafnode of cluster origin, for a peer that announced lnoc.
// LMSG always carries a header size; nil hdrArg writes "0".
func AppendLeafMsgHeader(b, origin, account, subject, reply []byte, queues [][]byte, hdrArg, sizeArg []byte) []byte {
	b = append(b, "LMSG "...)
	b = append(b, origin...)
	b = append(b, ' ')
	if len(account) > 0 {
		b = append(b, account...)
		b = append(b, ' ')
	}
	b = appendMsgRest(b, subject, reply, queues)
	if len(hdrArg) > 0 {
		b = append(b, hdrArg...)
	} else {
		b = append(b, '0')
	}
	b = append(b, ' ')
	b = append(b, sizeArg...)
	return append(b, '\r', '\n')
}

// appendMsgRest appends the subject, reply and queues, each followed by a
// space.
func appendMsgRest(b, subject, reply []byte, queues [][]byte) []byte {
	b = append(b, subject...)
	b = append(b, ' ')
	if len(queues) > 0 {
		if len(reply) > 0 {
			b = append(b, '+', ' ')
			b = append(b, reply...)
			b = append(b, ' ')
		} else {
			b = append(b, '|', ' ')
		}
		for _, q := range queues {
			b = append(b, q...)
			b = append(b, ' ')
		}
	} else if len(reply) > 0 {
		b = append(b, reply...)
		b = append(b, ' ')
	}
	return b
}
