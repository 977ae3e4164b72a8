package limits

import "time"

// Sizes of request fields, in characters (runes) unless said otherwise.
const (
	// MaxEmail bounds an e-mail address (RFC 5321's path limit).
	MaxEmail = 254
	// MaxFullName bounds a user's full name.
	MaxFullName = 200
	// MaxPersonName bounds a first or last name.
	MaxPersonName = 100
	// MaxAddressLine bounds each line of an address (line1, line2, city,
	// state, postal code).
	MaxAddressLine = 200
	// MaxAccountNumber bounds a porting's account number.
	MaxAccountNumber = 40
	// MaxAccountPin bounds a porting's account PIN (digits).
	MaxAccountPin = 20
	// MaxDescription bounds a webhook endpoint's description.
	MaxDescription = 500
	// MaxURL bounds a webhook endpoint's URL, in bytes.
	MaxURL = 2048
	// MaxUserComment bounds a cancellation's comment.
	MaxUserComment = 1000
	// MaxIdempotencyKey bounds an Idempotency-Key header, in bytes.
	MaxIdempotencyKey = 255
	// MaxID bounds an ID or cursor in a path or query, in bytes: every ID
	// the platform makes is far shorter.
	MaxID = 100
	// MaxRequestBody bounds a request body, in bytes.
	MaxRequestBody = 1 << 20
)

// Counts per project and per request.
const (
	// MaxEndpointsPerProject bounds a project's webhook endpoints.
	MaxEndpointsPerProject = 100
	// MaxEnabledEvents bounds the event-type patterns of one endpoint.
	MaxEnabledEvents = 100
	// MaxEndpointSecrets bounds the signing secrets an endpoint holds at
	// once: the current one and those rotated out still in their grace
	// period. Each signs every delivery, so this bounds the signature
	// header too (about 50 bytes a secret).
	MaxEndpointSecrets = 5
	// MaxFilterValues bounds the values of one list filter (such as
	// events' type), commas and repeated parameters counted together.
	MaxFilterValues = 50
	// MaxQueryParams bounds the query parameters of one request, repeated
	// ones counted each time.
	MaxQueryParams = 100
)

// Request rates.
const (
	// DefaultAPIRate is the default sustained rate of requests per second
	// one API key may make (serve --api-rate-limit); its bucket holds
	// APIBurst seconds of it.
	DefaultAPIRate = 100
	// APIBurst is how many seconds of its rate a key may spend at once.
	APIBurst = 2
	// AuthFailures is how many failed authentications one client address
	// may make in a burst; AuthFailureRefill is how often it gets one back.
	AuthFailures      = 20
	AuthFailureRefill = time.Second
)

// Inbound HTTP timeouts (serve --read-timeout and the like).
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included:
	// a client that trickles its body is cut off by then, before the API
	// authenticates it (the API reads the body first).
	DefaultReadTimeout = 20 * time.Second
	// DefaultWriteTimeout bounds handling a request and writing the
	// response, from the end of the request headers.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds how long an idle keep-alive connection is
	// kept.
	DefaultIdleTimeout = 120 * time.Second
)
