"""Framing, CRC and resynchronisation of the firmware's protocol module."""

from gateio_proto import MAX_FRAME, FrameReader, crc16, decode, encode


def test_crc_check_value():
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


def test_encode_shape():
    frame = encode(0x1A, "OPEN 300")
    assert frame.startswith(b":1A OPEN 300*") and frame.endswith(b"\n")
    assert decode(frame[1:-1]) == (0x1A, "OPEN 300")


def test_reader_skips_garbage_and_resyncs():
    reader = FrameReader()
    stream = b"\x00\xff garbage" + encode(1, "HB") + b"\x03\x7e:" + b"half" + encode(2, "CLOSE")
    assert reader.feed(stream) == [(1, "HB"), (2, "CLOSE")]
    assert reader.bad == 1


def test_reader_across_split_chunks():
    reader = FrameReader()
    frame = encode(7, "STATUS")
    got = []
    for i in range(len(frame)):
        got += reader.feed(frame[i : i + 1])
    assert got == [(7, "STATUS")]


def test_corrupted_crc_and_flipped_byte_are_dropped():
    reader = FrameReader()
    frame = bytearray(encode(3, "OPEN 300"))
    frame[5] ^= 0x01
    assert reader.feed(bytes(frame)) == []
    assert reader.feed(b":03 OPEN 300*0000\n") == []
    assert reader.bad == 2


def test_overlong_frame_dropped_then_next_read():
    reader = FrameReader()
    assert reader.feed(b":" + b"A" * (MAX_FRAME * 2) + b"\n") == []
    assert reader.feed(encode(4, "HB")) == [(4, "HB")]
    assert reader.bad == 1


def test_decode_rejects_bad_shapes():
    for frame in (b"", b"1A", b"1AHB*0000", b"ZZ HB*1234", b"1A HB*12G4", b"1A\tHB*0000"):
        assert decode(frame) is None
