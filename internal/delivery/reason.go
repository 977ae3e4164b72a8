package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/switchboard-dev/switchboard/internal/endpoint"
)

// Reasons an attempt failed without a usable response, as the attempt log
// records them. They are coarse on purpose: an attempt log shows no
// resolver address, internal host name or raw dial error, so that a
// customer cannot map the network the platform runs in through it.
const (
	ReasonPrivateAddressRefused = "privateAddressRefused"
	ReasonConnectionRefused     = "connectionRefused"
	ReasonConnectionReset       = "connectionReset"
	ReasonUnreachable           = "unreachable"
	ReasonTimeout               = "timeout"
	ReasonDNSError              = "dnsError"
	ReasonTLSError              = "tlsError"
	ReasonRedirect              = "redirect"
	ReasonResponseTooLarge      = "responseTooLarge"
	ReasonInvalidResponse       = "invalidResponse"
	ReasonInvalidURL            = "invalidUrl"
	ReasonConnectionFailed      = "connectionFailed"
)

// maxResponseHeader bounds the response headers an endpoint may send.
const maxResponseHeader = 64 << 10

// reason classifies the error of an attempt that got no response.
func reason(err error) string {
	var (
		dnsErr  *net.DNSError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return ReasonPrivateAddressRefused
	case errors.As(err, &dnsErr):
		return ReasonDNSError
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE),
		// net/http's word for a peer that hung up before answering, when
		// the connection's first read saw EOF.
		strings.Contains(err.Error(), "server closed idle connection"):
		return ReasonConnectionReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ReasonUnreachable
	case errors.As(err, &recErr), errors.As(err, &alert), errors.As(err, &verify), errors.As(err, &unknown),
		errors.As(err, &host), errors.As(err, &invalid), strings.Contains(err.Error(), "tls: "):
		return ReasonTLSError
	case strings.Contains(err.Error(), "response headers exceeded"):
		return ReasonResponseTooLarge
	case strings.Contains(err.Error(), "malformed HTTP"), strings.Contains(err.Error(), "HTTP/1.x transport connection broken"):
		return ReasonInvalidResponse
	}
	return ReasonConnectionFailed
}

// peerWatch notes whether an attempt's connection reached a non-public
// address, so that what such a destination answered is not kept.
type peerWatch struct{ private atomic.Bool }

// watch returns ctx traced so that w learns the address each connection
// reached.
func (w *peerWatch) watch(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if ap, err := netip.ParseAddrPort(info.Conn.RemoteAddr().String()); err != nil || endpoint.Forbidden(ap.Addr()) {
				w.private.Store(true)
			}
		},
	})
}

// keptBody is the response body an attempt log keeps: none from a
// non-public address when w watched the attempt (HidePrivateResponses).
func keptBody(w *peerWatch, body string) string {
	if w != nil && w.private.Load() {
		return ""
	}
	return body
}
