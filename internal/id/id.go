package id

import (
	"crypto/rand"
	"sync"
	"time"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Prefixes of the identifiers the platform issues.
const (
	Event           = "evt"
	Porting         = "prt"
	Subscription    = "sub"
	User            = "usr"
	Sim             = "sim"
	Plan            = "pln"
	ServiceProvider = "svp"
	PortOut         = "pto"
	Address         = "adr"
	APIKey          = "apk"
	Endpoint        = "whe"
	Delivery        = "dlv"
	Message         = "msg"
)

// timeChars encode milliseconds since the Unix epoch: 62^8 ms lasts until
// the year 8888.
const timeChars = 8

var (
	mu   sync.Mutex
	last []byte
)

// New returns a new identifier with a 28-character suffix (22 for service
// providers, as the platform does).
func New(prefix string) string {
	n := 28
	if prefix == ServiceProvider {
		n = 22
	}
	return prefix + "_" + string(suffix(time.Now(), n))
}

func suffix(t time.Time, n int) []byte {
	s := make([]byte, n)
	ms := uint64(t.UnixMilli())
	for i := timeChars - 1; i >= 0; i-- {
		s[i] = alphabet[ms%62]
		ms /= 62
	}
	random := s[timeChars:]
	if _, err := rand.Read(random); err != nil {
		panic("id: no randomness: " + err.Error())
	}
	for i, b := range random {
		random[i] = alphabet[int(b)%62]
	}
	mu.Lock()
	defer mu.Unlock()
	if len(last) == n && string(s) <= string(last) {
		copy(s, last)
		increment(s)
	}
	last = append(last[:0], s...)
	return s
}

// increment adds one to a base62 string in place.
func increment(s []byte) {
	for i := len(s) - 1; i >= 0; i-- {
		d := digit(s[i])
		if d < 61 {
			s[i] = alphabet[d+1]
			return
		}
		s[i] = alphabet[0]
	}
}

func digit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	default:
		return int(c-'a') + 36
	}
}
