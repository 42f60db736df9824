package dispatch

import (
	"fmt"

	"github.com/gonicorn/gonicorn/internal/wire"
)

func helloFrame(id int) []byte {
	doc := fmt.Sprintf(`{"pid": 0, "worker_id": %d, "app_kind": "wsgi", "capacity": 1}`, id)
	return wire.AppendFrame(nil, wire.Hello, 0, 0, wire.AppendHello(nil, []byte(doc)))
}
