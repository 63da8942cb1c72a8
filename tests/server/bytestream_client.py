"""A ByteStream client for cli_test.sh's Python steps, with hand-encoded
messages (no generated code): upload a blob, open a read of it, and wait
for a line in the server's log."""
import hashlib
import os
import time


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    return key + (varint(payload) if wire_type == 0 else varint(len(payload)) + payload)


def read_varint(buffer, at):
    shift = value = 0
    while True:
        byte = buffer[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def data_of(message):
    """The data (field 10, its only field) of a ReadResponse."""
    at, data = 0, b""
    while at < len(message):
        key, at = read_varint(message, at)
        length, at = read_varint(message, at)
        if key == (10 << 3 | 2):
            data += message[at:at + length]
        at += length
    return data


def upload_random(channel, size, uuid, chunk=1 << 20):
    """Writes `size` random bytes in `chunk` pieces; their bytes and digest."""
    data = os.urandom(size)
    digest = "%s/%d" % (hashlib.sha256(data).hexdigest(), len(data))

    def requests():
        # WriteRequest: resource_name=1, write_offset=2, finish_write=3, data=10
        name = ("uploads/%s/blobs/%s" % (uuid, digest)).encode()
        for offset in range(0, len(data), chunk):
            yield ((field(1, 2, name) if offset == 0 else b"") + field(2, 0, offset) +
                   field(3, 0, int(offset + chunk >= len(data))) +
                   field(10, 2, data[offset:offset + chunk]))

    channel.stream_unary("/google.bytestream.ByteStream/Write")(requests(), timeout=30)
    return data, digest


def open_read(channel, digest, timeout):
    """The stream of ReadResponses of blobs/DIGEST (ReadRequest: resource_name=1)."""
    read = channel.unary_stream("/google.bytestream.ByteStream/Read")
    return read(field(1, 2, ("blobs/" + digest).encode()), timeout=timeout)


def wait_for_log(log, text, seconds=20):
    deadline = time.time() + seconds
    while text not in open(log).read():
        if time.time() > deadline:
            raise SystemExit("the server never logged %r" % text)
        time.sleep(0.05)
