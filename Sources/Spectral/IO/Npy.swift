#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An n-dimensional array read from or written to a NumPy `.npy` file (1-D to 4-D: vectors, matrices, batches of
/// matrices and convolution filters).
///
/// Reading accepts format versions 1.0, 2.0 and 3.0, little- and big-endian, C and Fortran order, and the
/// element types `f4` and `f8` (kept), `f2`, `i4` and `i8` (converted: f2 → Float exactly, i4 → Double exactly,
/// i8 → Double, exact up to 2^53, larger magnitudes round). Anything else (bool, complex, unsigned, strings,
/// objects) is rejected with an error that names the dtype. Values are held in C (row-major) order. Dimensions are
/// limited to 2³¹ − 1, and to 2¹³ in an array with no elements.
///
/// ```swift
/// let x = try NpyArray.read(path: "A.npy")
/// let a: Matrix<Double> = try x.matrix()        // 2-D only; f4 files widen exactly
/// try NpyArray(a).write(path: "out/C.npy")      // written to a temporary file, then renamed
/// ```
public struct NpyArray: Sendable, Equatable {
    /// The element storage, in C order.
    public enum Values: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int64([Int64])
        var count: Int {
            switch self { case .float32(let v): v.count; case .float64(let v): v.count; case .int64(let v): v.count }
        }
    }

    /// The dimensions; read-only, so that shape and values always agree (set both through `init(shape:values:)`).
    public private(set) var shape: [Int]
    /// The elements in C order; read-only (see `shape`).
    public private(set) var values: Values
    /// The dtype as stored in the file it was read from (`"<f4"`, `">i8"`, ...), or the one it will be written as.
    public private(set) var sourceDescr: String

    /// An array from values in C order; throws when the shape does not match the count or is more than 4-D.
    public init(shape: [Int], values: Values) throws {
        guard (1...4).contains(shape.count) else { throw SpectralError.invalidArgument(".npy arrays here are 1-D to 4-D, got \(shape.count)-D") }
        guard shape.allSatisfy({ $0 >= 0 }), checkedProduct(shape) == values.count else {
            throw SpectralError.shapeMismatch("shape \(shape) does not hold \(values.count) values")
        }
        self.shape = shape; self.values = values
        switch values { case .float32: sourceDescr = "<f4"; case .float64: sourceDescr = "<f8"; case .int64: sourceDescr = "<i8" }
    }

    /// A 2-D array holding the matrix (as f4 or f8). One copy at memory speed.
    public init<T: SpectralScalar>(_ m: Matrix<T>) {
        shape = [m.rows, m.cols]
        func copied<E>(_: E.Type) -> [E] {                   // E is T itself: a byte copy
            let n = m.rows * m.cols
            return m.withUnsafePointer { p, _ in
                [E](unsafeUninitializedCapacity: n) { b, c in
                    if n > 0 { UnsafeMutableRawPointer(b.baseAddress!).copyMemory(from: UnsafeRawPointer(p), byteCount: n * MemoryLayout<E>.stride) }
                    c = n
                }
            }
        }
        if T.self == Float.self { values = .float32(copied(Float.self)); sourceDescr = "<f4" }
        else if T.self == Double.self { values = .float64(copied(Double.self)); sourceDescr = "<f8" }
        else { values = .float64(m.elements.map(\.double)); sourceDescr = "<f8" }
    }

    /// An array of binary16 values (bit patterns, C order), written back as '<f2'; `values` holds them widened to
    /// Float (exact). - Throws: as `init(shape:values:)`.
    public init(shape: [Int], float16Bits: [UInt16]) throws {
        try self.init(shape: shape, values: .float32(float16Bits.map(Float16Bits)))
        sourceDescr = "<f2"
    }

    /// A half-precision matrix as a 2-D '<f2' array.
    public init(_ h: HalfMatrix) {
        // The shape always holds the bits (HalfMatrix checks it), so this cannot throw.
        self = try! NpyArray(shape: [h.rows, h.cols], float16Bits: h.bits)
    }

    /// Number of dimensions.
    public var ndim: Int { shape.count }

    /// The values as Doubles (exact for f4, f8, i4; i8 rounds beyond 2^53).
    public var doubles: [Double] {
        switch values {
        case .float32(let v): return v.map(Double.init)
        case .float64(let v): return v
        case .int64(let v): return v.map(Double.init)
        }
    }

    /// The array as a matrix of `T`: 2-D arrays as they are, 1-D arrays of length n as 1×n when `allowVector`.
    /// Converting f8 to Float rounds. - Throws: `.shapeMismatch` for other dimensions; `.overflow` when a finite value
    /// is beyond `T`'s range (an f8 value above Float's largest, which would otherwise become ±inf).
    public func matrix<T: SpectralScalar>(_: T.Type = T.self, allowVector: Bool = false) throws -> Matrix<T> {
        let (r, c): (Int, Int)
        if shape.count == 2 { (r, c) = (shape[0], shape[1]) }
        else if shape.count == 1 && allowVector { (r, c) = (1, shape[0]) }
        else { throw SpectralError.shapeMismatch("expected a 2-D array, got shape \(shape)") }
        guard checkedProduct([r, c]) == values.count else { throw SpectralError.shapeMismatch("shape \(shape) does not hold \(values.count) values") }
        var m = Matrix<T>(rows: r, cols: c)
        m.withUnsafeMutablePointer { p, _ in
            let raw = UnsafeMutableRawPointer(p)
            switch values {
            case .float32(let v):
                if T.self == Float.self { v.withUnsafeBytes { if let b = $0.baseAddress { raw.copyMemory(from: b, byteCount: $0.count) } } }
                else if T.self == Double.self { let d = raw.assumingMemoryBound(to: Double.self); for i in 0..<v.count { d[i] = Double(v[i]) } }
                else { for i in 0..<v.count { p[i] = T(Double(v[i])) } }
            case .float64(let v):
                if T.self == Double.self { v.withUnsafeBytes { if let b = $0.baseAddress { raw.copyMemory(from: b, byteCount: $0.count) } } }
                else if T.self == Float.self { let f = raw.assumingMemoryBound(to: Float.self); for i in 0..<v.count { f[i] = Float(v[i]) } }
                else { for i in 0..<v.count { p[i] = T(v[i]) } }
            case .int64(let v): for i in 0..<v.count { p[i] = T(Double(v[i])) }
            }
        }
        if T.self == Float.self, case .float64(let v) = values, let i = v.indices.first(where: { v[$0].isFinite && !Float(v[$0]).isFinite }) {
            throw SpectralError.overflow("element \(i) (\(v[i])) is beyond Float's range")
        }
        return m
    }

    /// The largest dimension a file may declare (2³¹ − 1).
    public static let maxDimension = Int(Int32.max)
    /// The largest dimension of an array with no elements (2¹³): its sides still size the outputs (the full SVD of
    /// 0×n has an n×n V, 512 MiB at n = 2¹³ in f8; a 0×2²⁴ file asked for 2 PB).
    public static let maxEmptyDimension = 1 << 13

    /// Reads a .npy file. - Throws: `SpectralError.io` naming the file and the problem for a missing, truncated
    /// or corrupt file, an unsupported dtype or version, or a data size that does not match the header.
    public static func read(path: String) throws -> NpyArray {
        // A regular file is read whole (its size bounds the read); a stream (a pipe, /dev/zero, /dev/urandom) only as
        // far as its header says: the header, then the declared data and one byte more (so that trailing bytes are
        // still reported), and nothing once the magic or the header is wrong. An endless input is refused, not slurped.
        let bytes = try readFile(path) { prefix in
            guard prefix.count >= 12 else { return prefix.count >= 6 && !prefix.starts(with: npyMagic) ? 0 : nil }
            guard prefix.starts(with: npyMagic), let (start, headerLen) = headerExtent(prefix) else { return 0 }
            if prefix.count < start + headerLen { return start + headerLen }
            let l = try layout(prefix, file: path)
            return l.body + l.need + 1
        }
        return try parse(bytes, file: path)
    }

    /// The header's start and length from the first 12 bytes (nil for an unknown version).
    static func headerExtent(_ bytes: [UInt8]) -> (start: Int, length: Int)? {
        switch bytes[6] {
        case 1: return (10, Int(bytes[8]) | Int(bytes[9]) << 8)
        case 2, 3: return (12, Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24)
        default: return nil
        }
    }

    /// The longest header accepted (numpy writes under 200 bytes; its own loader refuses more than 10,000 by default).
    public static let maxHeaderLength = 1 << 20

    /// What the header says: the parsed header, the element kind and size, the element count, where the data
    /// starts and how many bytes it needs. Needs only the bytes up to the end of the header.
    struct Layout {
        let header: NpyHeader
        let descr: String, kind: String, size: Int, big: Bool
        let count: Int, body: Int, need: Int
    }

    static func layout(_ bytes: [UInt8], file: String) throws -> Layout {
        func fail(_ what: String) -> SpectralError { .io("\(displayPath(file)): \(what)") }
        guard bytes.count >= 10, bytes.starts(with: npyMagic) else { throw fail("not a .npy file (bad magic)") }
        let major = bytes[6], minor = bytes[7]
        let headerLen: Int, start: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        default:
            throw fail("unsupported .npy format version \(major).\(minor)")
        }
        guard headerLen <= maxHeaderLength else { throw fail("header of \(headerLen) bytes is too long (at most \(maxHeaderLength))") }
        guard start + headerLen <= bytes.count else { throw fail("truncated header (needs \(headerLen) bytes)") }
        let headerBytes = Array(bytes[start..<start + headerLen])
        guard let text = String(validating: headerBytes, as: UTF8.self) else { throw fail("header is not text") }
        if major < 3 && !headerBytes.allSatisfy({ $0 < 128 }) { throw fail("non-ASCII header in a version \(major) file") }
        var parser = NpyHeaderParser(text, file: file)
        let h = try parser.parse()
        guard h.shape.count >= 1 && h.shape.count <= 4 else {
            throw fail("\(h.shape.count)-D arrays are not supported (1-D to 4-D)")
        }
        var count = 1
        for d in h.shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, d <= NpyArray.maxDimension else { throw fail("shape \(h.shape) is too large") }
            count = p
        }
        // An empty array with a huge side is cheap to read but not to use (a QRCP of 0×10¹⁴ needs 10¹⁴ pivots).
        if count == 0, let d = h.shape.first(where: { $0 > NpyArray.maxEmptyDimension }) {
            throw fail("shape \(h.shape): an empty array with a dimension of \(d) (above \(NpyArray.maxEmptyDimension)) is not supported")
        }
        let d = h.descr
        guard d.count >= 3 else { throw fail("unsupported dtype \(quoted(d))") }
        let order = d.first!, kind = String(d.dropFirst())
        guard order == "<" || order == ">" || order == "|" || order == "=" else { throw fail("unsupported dtype \(quoted(d))") }
        let big = order == ">"
        let size: Int
        switch kind {
        case "f2": size = 2
        case "f4", "i4": size = 4
        case "f8", "i8": size = 8
        default:
            throw fail("unsupported dtype \(quoted(d)) (supported: f4, f8; f2, i4, i8 are converted)")
        }
        let (need, o) = count.multipliedReportingOverflow(by: size)
        guard !o else { throw fail("shape \(h.shape) is too large") }
        return Layout(header: h, descr: d, kind: kind, size: size, big: big, count: count, body: start + headerLen, need: need)
    }

    /// Parses the bytes of a .npy file (`file` only names it in errors).
    public static func parse(_ bytes: [UInt8], file: String = "<memory>") throws -> NpyArray {
        func fail(_ what: String) -> SpectralError { .io("\(displayPath(file)): \(what)") }
        let l = try layout(bytes, file: file)
        let (h, d, kind, size, big, count, body, need) = (l.header, l.descr, l.kind, l.size, l.big, l.count, l.body, l.need)
        guard bytes.count - body == need else {
            throw fail("data has \(bytes.count - body) bytes but shape \(h.shape) of \(kind) needs \(need)")
        }
        func word(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            let base = body + i * size
            for b in 0..<size { v |= UInt64(bytes[base + (big ? size - 1 - b : b)]) << (8 * b) }
            return v
        }
        var values: Values
        // Little-endian f4/f8 on a little-endian host (every file numpy writes here): one copy at memory speed.
        let native = !big && 1.littleEndian == 1
        switch kind {
        case "f4" where native:
            values = .float32(bytes.withUnsafeBytes { src in
                [Float](unsafeUninitializedCapacity: count) { b, c in
                    if count > 0 { UnsafeMutableRawPointer(b.baseAddress!).copyMemory(from: src.baseAddress! + body, byteCount: count * 4) }
                    c = count
                }
            })
        case "f8" where native:
            values = .float64(bytes.withUnsafeBytes { src in
                [Double](unsafeUninitializedCapacity: count) { b, c in
                    if count > 0 { UnsafeMutableRawPointer(b.baseAddress!).copyMemory(from: src.baseAddress! + body, byteCount: count * 8) }
                    c = count
                }
            })
        case "f4": values = .float32((0..<count).map { Float(bitPattern: UInt32(word($0))) })
        case "f2": values = .float32((0..<count).map { Float(Float16Bits(UInt16(word($0)))) })
        case "f8": values = .float64((0..<count).map { Double(bitPattern: word($0)) })
        case "i4": values = .float64((0..<count).map { Double(Int32(bitPattern: UInt32(word($0)))) })
        default: values = .float64((0..<count).map { Double(Int64(bitPattern: word($0))) })
        }
        if h.fortranOrder && h.shape.count > 1 { values = fortranToC(values, h.shape) }
        var a = try NpyArray(shape: h.shape, values: values)
        a.sourceDescr = d
        return a
    }

    /// The bytes of a version 1.0 (or 2.0 if the header is huge) little-endian C-order .npy file. Arrays read from
    /// or built as '<f2' are written as '<f2' (their Float values are binary16 values, so nothing is lost); other
    /// float32 values as '<f4'.
    public func encoded() -> [UInt8] {
        let descr: String, size: Int
        let half = sourceDescr.hasSuffix("f2")
        switch values {
        case .float32 where half: descr = "<f2"; size = 2
        case .float32: descr = "<f4"; size = 4
        case .float64: descr = "<f8"; size = 8
        case .int64: descr = "<i8"; size = 8
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let v2 = header.utf8.count + 11 > 65535
        let pre = v2 ? 12 : 10
        let total = (pre + header.utf8.count + 1 + 63) / 64 * 64
        header += String(repeating: " ", count: total - pre - header.utf8.count - 1) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, v2 ? 2 : 1, 0]
        let hl = header.utf8.count
        out += v2 ? [UInt8(hl & 255), UInt8(hl >> 8 & 255), UInt8(hl >> 16 & 255), UInt8(hl >> 24 & 255)] : [UInt8(hl & 255), UInt8(hl >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + values.count * size)
        if half, case .float32(let v) = values {
            for x in v { let h = halfBits(x); out.append(UInt8(h & 255)); out.append(UInt8(h >> 8)) }
            return out
        }
        if 1.littleEndian == 1 {                                 // the host's bytes are the file's: one copy
            switch values {
            case .float32(let v): v.withUnsafeBytes { out.append(contentsOf: $0) }
            case .float64(let v): v.withUnsafeBytes { out.append(contentsOf: $0) }
            case .int64(let v): v.withUnsafeBytes { out.append(contentsOf: $0) }
            }
            return out
        }
        func put(_ w: UInt64) { for b in 0..<size { out.append(UInt8(w >> (8 * b) & 255)) } }
        switch values {
        case .float32(let v): for x in v { put(UInt64(x.bitPattern)) }
        case .float64(let v): for x in v { put(x.bitPattern) }
        case .int64(let v): for x in v { put(UInt64(bitPattern: x)) }
        }
        return out
    }

    /// Writes the array as .npy: to a temporary file in the same directory, then renamed into place, so a reader
    /// never sees a partial file. - Throws: `SpectralError.io` naming the path.
    public func write(path: String) throws { try writeFileAtomically(path, encoded()) }
}

/// Reinterprets Fortran-order values as C order.
func fortranToC(_ v: NpyArray.Values, _ shape: [Int]) -> NpyArray.Values {
    let n = shape.count
    var cStrides = [Int](repeating: 1, count: n), fStrides = [Int](repeating: 1, count: n)
    for d in stride(from: n - 2, through: 0, by: -1) { cStrides[d] = cStrides[d + 1] * shape[d + 1] }
    for d in 1..<n { fStrides[d] = fStrides[d - 1] * shape[d - 1] }
    let total = shape.reduce(1, *)
    func perm<E>(_ src: [E]) -> [E] {
        guard total > 0 else { return src }
        var out = src
        for c in 0..<total {
            var rem = c, f = 0
            for d in 0..<n { let idx = rem / cStrides[d]; rem %= cStrides[d]; f += idx * fStrides[d] }
            out[c] = src[f]
        }
        return out
    }
    switch v {
    case .float32(let x): return .float32(perm(x))
    case .float64(let x): return .float64(perm(x))
    case .int64(let x): return .int64(perm(x))
    }
}

/// IEEE binary16 bits → Float, exactly (subnormals, Inf and NaN included), without relying on `Float16`,
/// which is unavailable on x86-64 macOS.
func Float16Bits(_ h: UInt16) -> Float {
    let sign: Float = h & 0x8000 != 0 ? -1 : 1
    let e = Int(h >> 10 & 0x1F), f = Int(h & 0x3FF)
    if e == 0 { return sign * Float(f) * 0x1p-24 }
    if e == 31 { return f == 0 ? sign * .infinity : .nan }
    return sign * (1 + Float(f) * 0x1p-10) * Float(sign: .plus, exponent: e - 15, significand: 1)
}

/// The first six bytes of every .npy file.
let npyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

/// A file's bytes. A regular file of known size is read in one piece. Anything else is read in 1 MiB chunks until
/// its end or, with `wanted`, until it holds as many bytes as `wanted(bytesSoFar)` asks (nil: not known yet).
func readFile(_ path: String, wanted: (([UInt8]) throws -> Int?)? = nil) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw SpectralError.io("\(displayPath(path)): cannot open (\(String(cString: strerror(errno))))") }
    defer { fclose(f) }
    // A regular file is read in one piece into a buffer of its size (no growth copies); anything else (a pipe, a
    // file that grows while read) in 1 MiB chunks after that.
    var st = stat()
    let size = fstat(fileno(f), &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : 0
    var out = [UInt8](unsafeUninitializedCapacity: size) { buf, count in
        count = size > 0 ? fread(buf.baseAddress, 1, size, f) : 0
    }
    if ferror(f) != 0 { throw SpectralError.io("\(displayPath(path)): read error") }
    if out.count < size { return out }                    // end of file before the stat size: the file shrank
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var limit = Int.max
    while out.count < limit {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, Swift.min($0.count, limit - out.count), f) }
        if n > 0 { out.append(contentsOf: chunk[0..<n]) }
        if let wanted, let w = try wanted(out) { limit = w }
        if n == 0 || (n < chunk.count && feof(f) != 0) {
            if ferror(f) != 0 { throw SpectralError.io("\(displayPath(path)): read error") }
            break
        }
    }
    return out
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place.
func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
    let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    guard let f = fopen(tmp, "wb") else { throw SpectralError.io("\(displayPath(path)): cannot create (\(String(cString: strerror(errno))))") }
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    let closed = fclose(f)
    guard written == bytes.count, closed == 0 else {
        unlink(tmp)
        throw SpectralError.io("\(displayPath(path)): write failed")
    }
    guard rename(tmp, path) == 0 else {
        unlink(tmp)
        throw SpectralError.io("\(displayPath(path)): cannot rename into place (\(String(cString: strerror(errno))))")
    }
}

/// The product of the dimensions, or nil when it overflows Int (a corrupt header can claim any shape).
func checkedProduct(_ dims: [Int]) -> Int? {
    var n = 1
    for d in dims {
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}
