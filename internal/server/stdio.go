package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The stdio transport: newline-delimited JSON-RPC on stdin and stdout, as
// the MCP spec defines it (a message is one line, with no embedded
// newline). The SDK's IOTransport ends the connection at the first line
// that is not JSON; JSON-RPC 2.0 wants an answer instead, so this one
// reads lines itself: a line that is not JSON is answered with a parse
// error (-32700, id null), one that is JSON but not a JSON-RPC message
// with an invalid request error (-32600), a line longer than
// MAX_REQUEST_BODY_BYTES is skipped unbuffered and answered -32600, and
// the session goes on. Batches (JSON-RPC arrays) are taken as the SDK
// takes them: before protocol 2025-06-18 only, answered with one array.

// defaultStdioLineBytes bounds a line when no MAX_REQUEST_BODY_BYTES is set
// (the configuration's default).
const defaultStdioLineBytes = 1 << 20

// batchesUntil is the protocol revision that removed JSON-RPC batching.
const batchesUntil = "2025-06-18"

// stdioTransport serves one MCP session over in and out.
type stdioTransport struct {
	in      io.ReadCloser
	out     io.WriteCloser
	maxLine int64 // bytes in a line, without its newline
	log     *slog.Logger
}

// stdioTransport is the transport of [Server.ServeStdio].
func (s *Server) stdioTransport(in io.ReadCloser, out io.WriteCloser) *stdioTransport {
	return &stdioTransport{in: in, out: out, maxLine: s.cfg.MaxRequestBodyBytes, log: s.log}
}

var (
	_ mcp.Transport  = (*stdioTransport)(nil)
	_ mcp.Connection = (*stdioConn)(nil)
)

// Connect starts reading lines.
func (t *stdioTransport) Connect(context.Context) (mcp.Connection, error) {
	maxLine := t.maxLine
	if maxLine <= 0 {
		maxLine = defaultStdioLineBytes
	}
	log := t.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &stdioConn{
		in:      t.in,
		out:     t.out,
		maxLine: maxLine,
		log:     log,
		lines:   make(chan stdioLine),
		closed:  make(chan struct{}),
	}
	go c.readLines()
	return c, nil
}

// stdioLine is one line read, or the error that ended reading.
type stdioLine struct {
	data    []byte
	tooLong bool // data is empty: the line was over maxLine and skipped
	err     error
}

// stdioConn is the connection of one stdio session.
type stdioConn struct {
	in      io.ReadCloser
	out     io.WriteCloser
	maxLine int64
	log     *slog.Logger
	lines   chan stdioLine
	queue   []jsonrpc.Message // messages of a batch not read yet; Read is not concurrent

	writeMu sync.Mutex // one message on out at a time

	mu         sync.Mutex // guards the fields below, shared by Read and Write
	initID     jsonrpc.ID // the id of the initialize request, to learn the protocol
	protocol   string     // the negotiated protocol revision
	batches    map[jsonrpc.ID]*stdioBatch
	closeOnce  sync.Once
	closed     chan struct{}
	closeError error
}

// stdioBatch collects the responses to one batch's requests.
type stdioBatch struct {
	pending   int
	responses []*jsonrpc.Response
	slot      map[jsonrpc.ID]int
}

// readLines sends each line of in to c.lines until in ends or c closes.
// It buffers at most maxLine bytes of a line: the rest of a longer line is
// read and dropped. Like the SDK's reader, it may outlive Close while a
// read of stdin blocks.
func (c *stdioConn) readLines() {
	r := bufio.NewReaderSize(c.in, 64<<10)
	for {
		line, err := c.readLine(r)
		if line.data != nil || line.tooLong || err == nil {
			select {
			case c.lines <- line:
			case <-c.closed:
				return
			}
		}
		if err != nil {
			select {
			case c.lines <- stdioLine{err: err}:
			case <-c.closed:
			}
			return
		}
	}
}

// readLine reads one line. At the end of the input, a last line without a
// newline is returned with the error.
func (c *stdioConn) readLine(r *bufio.Reader) (stdioLine, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if int64(len(buf)+len(chunk)) > c.maxLine+2 { // +2: the newline, and a \r before it
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && len(buf) == 0 && !tooLong:
			return stdioLine{}, err
		}
		data := bytes.TrimRight(buf, "\r\n")
		if !tooLong && int64(len(data)) > c.maxLine {
			tooLong, data = true, nil
		}
		if data == nil && !tooLong {
			data = []byte{}
		}
		return stdioLine{data: data, tooLong: tooLong}, err
	}
}

// Read returns the next message, answering every line that is not one.
func (c *stdioConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(c.queue) > 0 {
			msg := c.queue[0]
			c.queue = c.queue[1:]
			return msg, nil
		}
		var line stdioLine
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closed:
			return nil, io.EOF
		case line = <-c.lines:
		}
		if line.err != nil {
			return nil, line.err
		}
		if line.tooLong {
			c.log.Debug("stdio: a message over the size limit was refused", "limit_bytes", c.maxLine)
			if err := c.writeError(nil, jsonrpc.CodeInvalidRequest,
				fmt.Sprintf("Invalid Request: the message is longer than %d bytes (MAX_REQUEST_BODY_BYTES)", c.maxLine)); err != nil {
				return nil, err
			}
			continue
		}
		msgs, err := c.decodeLine(line.data)
		if err != nil {
			return nil, err
		}
		if len(msgs) == 0 {
			continue
		}
		c.queue = msgs[1:]
		return msgs[0], nil
	}
}

// decodeLine turns a line into the messages it holds. A line that holds
// none is answered here and yields no message; only a failure to write
// that answer is an error.
func (c *stdioConn) decodeLine(data []byte) ([]jsonrpc.Message, error) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0: // blank lines between messages are harmless
		return nil, nil
	case !json.Valid(data):
		c.log.Debug("stdio: a line that is not JSON was answered with a parse error", "bytes", len(data))
		return nil, c.writeError(nil, jsonrpc.CodeParseError, "Parse error: the line is not JSON")
	case data[0] == '[':
		return c.decodeBatch(data)
	}
	msg, err := jsonrpc.DecodeMessage(data)
	if err != nil {
		c.log.Debug("stdio: a line that is not a JSON-RPC message was answered with an invalid request error", "bytes", len(data))
		return nil, c.writeError(idOf(data), jsonrpc.CodeInvalidRequest, "Invalid Request: the line is not a JSON-RPC 2.0 message")
	}
	c.noteInitialize(msg)
	return []jsonrpc.Message{msg}, nil
}

// decodeBatch decodes a JSON-RPC batch and records its requests, so that
// Write answers them with one array. As in the SDK, a batch is taken only
// before protocol 2025-06-18, and whole or not at all.
func (c *stdioConn) decodeBatch(data []byte) ([]jsonrpc.Message, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil || len(raws) == 0 {
		return nil, c.writeError(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: an empty or malformed batch")
	}
	c.mu.Lock()
	protocol := c.protocol
	c.mu.Unlock()
	if protocol >= batchesUntil {
		return nil, c.writeError(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: JSON-RPC batches are not supported in protocol "+batchesUntil+" and later")
	}
	msgs := make([]jsonrpc.Message, 0, len(raws))
	batch := &stdioBatch{slot: map[jsonrpc.ID]int{}}
	for _, raw := range raws {
		msg, err := jsonrpc.DecodeMessage(raw)
		if err != nil {
			return nil, c.writeError(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: a batch element is not a JSON-RPC 2.0 message")
		}
		if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() {
			if _, dup := batch.slot[req.ID]; dup {
				return nil, c.writeError(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: a batch repeats a request id")
			}
			batch.slot[req.ID] = len(batch.responses)
			batch.responses = append(batch.responses, nil)
		}
		msgs = append(msgs, msg)
	}
	if batch.pending = len(batch.slot); batch.pending > 0 {
		c.mu.Lock()
		for id := range batch.slot {
			if _, taken := c.batches[id]; taken {
				c.mu.Unlock()
				return nil, c.writeError(nil, jsonrpc.CodeInvalidRequest, "Invalid Request: a batch repeats the id of a request still in progress")
			}
		}
		if c.batches == nil {
			c.batches = map[jsonrpc.ID]*stdioBatch{}
		}
		for id := range batch.slot {
			c.batches[id] = batch
		}
		c.mu.Unlock()
	}
	for _, msg := range msgs {
		c.noteInitialize(msg)
	}
	return msgs, nil
}

// noteInitialize remembers the id of an initialize request, whose answer
// names the protocol revision.
func (c *stdioConn) noteInitialize(msg jsonrpc.Message) {
	if req, ok := msg.(*jsonrpc.Request); ok && req.Method == "initialize" && req.IsCall() {
		c.mu.Lock()
		c.initID = req.ID
		c.mu.Unlock()
	}
}

// idOf is the id of a JSON object that is not a valid message, when it has
// a valid one under the exact key "id"; nil otherwise (answered as id null).
func idOf(data []byte) *jsonrpc.ID {
	var fields map[string]json.RawMessage
	var raw any
	if json.Unmarshal(data, &fields) != nil || json.Unmarshal(fields["id"], &raw) != nil || raw == nil {
		return nil
	}
	if f, ok := raw.(float64); ok && f != float64(int64(f)) {
		return nil
	}
	id, err := jsonrpc.MakeID(raw)
	if err != nil || !id.IsValid() {
		return nil
	}
	return &id
}

// Write sends msg as one line; the responses to a batch go as one array
// once all are there.
func (c *stdioConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if resp, ok := msg.(*jsonrpc.Response); ok {
		c.noteProtocol(resp)
		if batch, inBatch := c.resolve(resp); inBatch {
			if batch == nil {
				return nil
			}
			parts := make([]json.RawMessage, len(batch))
			for i, r := range batch {
				data, err := jsonrpc.EncodeMessage(r)
				if err != nil {
					return fmt.Errorf("encoding a batch response: %w", err)
				}
				parts[i] = data
			}
			data, err := json.Marshal(parts)
			if err != nil {
				return err
			}
			return c.writeLine(data)
		}
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encoding a message: %w", err)
	}
	return c.writeLine(data)
}

// noteProtocol learns the negotiated revision from the initialize answer.
func (c *stdioConn) noteProtocol(resp *jsonrpc.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.initID.IsValid() || resp.ID != c.initID || resp.Error != nil {
		return
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if json.Unmarshal(resp.Result, &res) == nil {
		c.protocol = res.ProtocolVersion
	}
	c.initID = jsonrpc.ID{}
}

// resolve records resp if it answers a batch request. It reports whether
// it did and, when resp completed its batch, returns the batch's answers.
func (c *stdioConn) resolve(resp *jsonrpc.Response) ([]*jsonrpc.Response, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch, ok := c.batches[resp.ID]
	if !ok {
		return nil, false
	}
	delete(c.batches, resp.ID)
	batch.responses[batch.slot[resp.ID]] = resp
	if batch.pending--; batch.pending > 0 {
		return nil, true
	}
	return batch.responses, true
}

// writeError answers a line that holds no message.
func (c *stdioConn) writeError(id *jsonrpc.ID, code int64, message string) error {
	answer := struct {
		JSONRPC string         `json:"jsonrpc"`
		ID      any            `json:"id"` // null when unknown, as JSON-RPC 2.0 requires
		Error   *jsonrpc.Error `json:"error"`
	}{JSONRPC: "2.0", Error: &jsonrpc.Error{Code: code, Message: message}}
	if id != nil {
		answer.ID = id.Raw()
	}
	data, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	return c.writeLine(data)
}

func (c *stdioConn) writeLine(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	select {
	case <-c.closed:
		return io.EOF
	default:
	}
	_, err := c.out.Write(append(data, '\n'))
	return err
}

// Close closes both streams and stops Read.
func (c *stdioConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.closeError = errors.Join(c.in.Close(), c.out.Close())
	})
	return c.closeError
}

// SessionID is empty: stdio has one session.
func (c *stdioConn) SessionID() string { return "" }
