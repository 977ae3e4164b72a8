package contract

import (
	"github.com/switchboard-dev/switchboard"
)

// AsyncAPIVersion is the version of the AsyncAPI specification the
// webhooks document follows.
const AsyncAPIVersion = "3.0.0"

// AsyncAPI returns the AsyncAPI 3.0 document of the webhooks: one message
// per event type, each with the Standard Webhooks headers and the event's
// schema in the newest version.
func AsyncAPI() (Schema, error) {
	g := newGenerator("#/components/schemas/")
	messages := Schema{}
	channelMessages := Schema{}
	var opMessages []any
	for _, t := range switchboard.EventTypes {
		s, err := g.eventSchema(t, switchboard.LatestVersion)
		if err != nil {
			return nil, err
		}
		name := EventSchemaName(t)
		g.defs[name] = s
		msg := EventSchemaName(t)[:len(name)-len("Event")]
		messages[msg] = Schema{
			"name":        t,
			"title":       t,
			"summary":     "The " + t + " event.",
			"contentType": "application/json",
			"headers":     Schema{"$ref": "#/components/schemas/WebhookHeaders"},
			"payload":     Schema{"$ref": "#/components/schemas/" + name},
			"bindings":    Schema{"http": Schema{"bindingVersion": "0.3.0"}},
		}
		channelMessages[msg] = Schema{"$ref": "#/components/messages/" + msg}
		opMessages = append(opMessages, Schema{"$ref": "#/channels/webhookEndpoint/messages/" + msg})
	}
	headers := Schema{"type": "object", "required": []any{"webhook-id", "webhook-timestamp", "webhook-signature"}, "properties": Schema{}}
	for _, h := range webhookHeaders() {
		p := h.(Schema)
		s := clone(p["schema"].(Schema))
		s["description"] = p["description"]
		headers["properties"].(Schema)[p["name"].(string)] = s
	}
	schemas := anyDefs(g.defs)
	schemas["WebhookHeaders"] = headers
	return Schema{
		"asyncapi": AsyncAPIVersion,
		"info": Schema{
			"title":   "Switchboard webhooks",
			"version": switchboard.LatestVersion,
			"description": "Every change on the platform is recorded as a CloudEvents event and POSTed to the webhook " +
				"endpoints that enabled its type, rendered in the endpoint's API version and signed per Standard " +
				"Webhooks. A 2xx acknowledges; anything else is retried (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); " +
				"410 disables the endpoint. The JSON Schema of every type in every version is at /schemas/events/{type}?version=….",
		},
		"defaultContentType": "application/json",
		"servers": Schema{"receiver": Schema{
			"host": "receiver.example.com", "protocol": "https",
			"description": "Your webhook endpoint (its URL is the endpoint's url).",
		}},
		"channels": Schema{"webhookEndpoint": Schema{
			"address":     "/",
			"title":       "A webhook endpoint",
			"description": "The URL of a webhook endpoint; every event is one POST.",
			"servers":     []any{Schema{"$ref": "#/servers/receiver"}},
			"messages":    channelMessages,
			"bindings":    Schema{"http": Schema{"bindingVersion": "0.3.0"}},
		}},
		"operations": Schema{"deliverEvent": Schema{
			"action":   "send",
			"title":    "Deliver an event",
			"summary":  "Switchboard POSTs each event to the endpoint, retrying until it is acknowledged.",
			"channel":  Schema{"$ref": "#/channels/webhookEndpoint"},
			"messages": opMessages,
			"bindings": Schema{"http": Schema{"method": "POST", "bindingVersion": "0.3.0"}},
		}},
		"components": Schema{"schemas": schemas, "messages": messages},
	}, nil
}
