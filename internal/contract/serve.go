package contract

import (
	"net/http"
	"strings"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// Mux is where Register registers its routes (an *http.ServeMux).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Register serves the published documents on mux: the OpenAPI document,
// the AsyncAPI document, every event schema and the API reference. The
// documents are built once, on first use.
func Register(mux Mux) {
	mux.HandleFunc("GET /openapi.json", serveFile(OpenAPIFile, "application/json"))
	mux.HandleFunc("GET /asyncapi.json", serveFile(AsyncAPIFile, "application/json"))
	mux.HandleFunc("GET /schemas/events/{type}", serveEventSchema)
	mux.HandleFunc("GET /docs", serveDocs)
}

func serveFile(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fs, err := Files()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "internalError", "An internal error occurred.")
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(fs[name])
	}
}

func serveEventSchema(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("type")
	t = strings.TrimSuffix(t, ".json")
	if !KnownEventType(t) {
		writeError(w, http.StatusNotFound, "notFound", "eventTypeNotFound", "The event type "+t+" is not one the platform emits.")
		return
	}
	v := r.URL.Query().Get("version")
	if v == "" {
		v = switchboard.LatestVersion
	}
	if !eventlog.Supported(v) {
		writeError(w, http.StatusUnprocessableEntity, "invalid", "invalidVersion",
			"The version "+v+" is not supported; supported: "+strings.Join(switchboard.Versions, ", ")+".")
		return
	}
	serveFile(EventSchemaFile(t, v), "application/schema+json")(w, r)
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	b, _ := wirejson.Marshal(api.ErrorObject{Object: "error", Type: typ, Code: code, Message: msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
