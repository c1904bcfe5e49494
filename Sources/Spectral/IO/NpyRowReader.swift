#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 2-D C-order .npy file read in blocks of rows, for the out-of-core routines: the whole file is never in memory
/// and never memory-mapped. Each block is one positioned read (`pread`) at its offset through the page cache, whose
/// pages are released after each block (`posix_fadvise(DONTNEED)` where available), so a file larger than memory
/// streams through without crowding the machine, and every pass reads the disk as a file larger than memory would.
/// (O_DIRECT into aligned buffers was measured and not kept: 0.73 GB/s against 1.57 through the page cache, whose
/// readahead keeps the disk busy between requests.)
///
/// ```swift
/// let file = try NpyRowReader(path: "A.npy")         // reads the header only
/// let top = try file.readRows(0..<100, as: Double.self)
/// ```
public final class NpyRowReader: @unchecked Sendable {
    /// The file, as given.
    public let path: String
    /// The matrix's number of rows (the file's first dimension).
    public let rows: Int
    /// The matrix's number of columns.
    public let cols: Int
    /// The file's dtype, as its header spells it ('<f8', '<f4', ...).
    public let descr: String
    /// The bytes of one row in the file.
    public let rowBytes: Int
    /// The bytes of the whole data section.
    public var dataBytes: Int { rows * rowBytes }
    private let fd: Int32, body: Int, elementSize: Int, bigEndian: Bool, isFloat32: Bool

    /// Opens a .npy file and reads its header.
    /// - Throws: `SpectralError.io` naming the file for a missing, unreadable, corrupt or truncated file, a dtype
    ///   other than f4 or f8, Fortran order (rows are not contiguous: `numpy.ascontiguousarray` first) or an
    ///   array that is not 2-D.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SpectralError.io("\(displayPath(path)): cannot open (\(String(cString: strerror(errno))))") }
        func fail(_ what: String) -> SpectralError { close(fd); return .io("\(displayPath(path)): \(what)") }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file (out-of-core reads need one)") }
        let fileSize = Int(st.st_size)
        var prefix = [UInt8](repeating: 0, count: Swift.min(fileSize, 12))
        guard NpyRowReader.readFully(fd, &prefix, at: 0) else { throw fail("read error") }
        guard prefix.count >= 12, prefix.starts(with: npyMagic), let (start, headerLength) = NpyArray.headerExtent(prefix) else {
            throw fail("not a .npy file (bad magic or unsupported version)")
        }
        guard headerLength <= NpyArray.maxHeaderLength, start + headerLength <= fileSize else { throw fail("truncated or oversized header") }
        var head = [UInt8](repeating: 0, count: start + headerLength)
        guard NpyRowReader.readFully(fd, &head, at: 0) else { throw fail("read error") }
        let layout: NpyArray.Layout
        do { layout = try NpyArray.layout(head, file: path) } catch { close(fd); throw error }
        guard layout.header.shape.count == 2 else { throw fail("out-of-core routines read 2-D arrays, this one has shape \(layout.header.shape)") }
        guard !layout.header.fortranOrder else {
            throw fail("Fortran-order array: rows are not contiguous (write it with numpy.ascontiguousarray first)")
        }
        guard layout.kind == "f4" || layout.kind == "f8" else {
            throw fail("out-of-core routines read f4 and f8 files, this one is \(quoted(layout.descr))")
        }
        guard fileSize - layout.body == layout.need else {
            throw fail("data has \(fileSize - layout.body) bytes but shape \(layout.header.shape) of \(layout.kind) needs \(layout.need)")
        }
        self.fd = fd
        rows = layout.header.shape[0]; cols = layout.header.shape[1]
        descr = layout.descr; body = layout.body; elementSize = layout.size; bigEndian = layout.big; isFloat32 = layout.kind == "f4"
        rowBytes = cols * layout.size
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
    }

    deinit { close(fd) }

    /// Rows `range` as a `range.count`×`cols` matrix of T (converted from the file's dtype when it differs).
    /// - Throws: `.invalidArgument` for a range outside 0..<rows; `.io` for a read error or a file that shrank.
    public func readRows<T: SpectralScalar>(_ range: Range<Int>, as _: T.Type = T.self) throws -> Matrix<T> {
        guard range.lowerBound >= 0 && range.upperBound <= rows else {
            throw SpectralError.invalidArgument("readRows: rows \(range) outside 0..<\(rows) of \(displayPath(path))")
        }
        var out = Matrix<T>(uninitializedRows: range.count, cols: cols)
        let offset = body + range.lowerBound * rowBytes, bytes = range.count * rowBytes
        let native = !bigEndian && 1.littleEndian == 1
        let ok: Bool
        if native && (isFloat32 ? T.self == Float.self : T.self == Double.self) {
            // The file's elements are T's: straight into the matrix (rows are contiguous, row stride = cols).
            ok = out.withUnsafeMutablePointer { p, _ in
                NpyRowReader.readFully(fd, UnsafeMutableRawPointer(p), bytes, at: offset)
            }
        } else {
            var raw = [UInt8](repeating: 0, count: bytes)
            ok = NpyRowReader.readFully(fd, &raw, at: offset)
            if ok {
                let (size, big, f32) = (elementSize, bigEndian, isFloat32)
                var beyond = -1                                        // an f8 value beyond Float's range
                raw.withUnsafeBytes { src in
                    out.withUnsafeMutablePointer { p, _ in
                        for i in 0..<(range.count * cols) {
                            var w: UInt64 = 0
                            for b in 0..<size { w |= UInt64(src[i * size + (big ? size - 1 - b : b)]) << (8 * b) }
                            let v = f32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: w))) : Double(bitPattern: w)
                            p[i] = T(v)
                            if beyond < 0 && v.isFinite && !p[i].isFinite { beyond = i / Swift.max(1, cols) }
                        }
                    }
                }
                if beyond >= 0 {
                    throw SpectralError.overflow("\(displayPath(path)): row \(range.lowerBound + beyond) holds a value beyond \(T.self)'s range")
                }
            }
        }
        guard ok else {
            throw SpectralError.io("\(displayPath(path)): read error at rows \(range) (the file shrank, or \(String(cString: strerror(errno))))")
        }
        #if os(Linux)
        _ = posix_fadvise(fd, off_t(offset), off_t(bytes), POSIX_FADV_DONTNEED)
        #endif
        return out
    }

    private static func readFully(_ fd: Int32, _ buffer: inout [UInt8], at offset: Int) -> Bool {
        let n = buffer.count
        return buffer.withUnsafeMutableBytes { readFully(fd, $0.baseAddress!, n, at: offset) }
    }

    /// `count` bytes at `offset` into `p`, retrying short reads and EINTR; false on an error or an early end of file.
    private static func readFully(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ count: Int, at offset: Int) -> Bool {
        var done = 0
        while done < count {
            let r = pread(fd, p + done, Swift.min(count - done, 1 << 30), off_t(offset + done))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return false }
            done += r
        }
        return true
    }
}
