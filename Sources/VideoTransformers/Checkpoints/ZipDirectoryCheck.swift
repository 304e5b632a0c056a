import Foundation

/// Validates a zip file's directory structure before ZIPFoundation reads it.
///
/// ZIPFoundation 0.9.20 trusts the 64-bit offsets of ZIP64 records (which `torch.save` always
/// writes) and traps converting one above `Int64.max` to `off_t`; a single flipped byte gets
/// there. This check walks the same records ZIPFoundation will (the last end-of-central-directory
/// record, its ZIP64 locator and record, every central-directory entry with its ZIP64 extra field
/// and local header) and refuses the file when any offset or size points outside it, so that
/// every value ZIPFoundation then computes stays within the file.
enum ZipDirectoryCheck {
    static func validate(_ file: URL, path: String) throws(CheckpointError) {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: file, options: .alwaysMapped)
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        try validate(bytes, path: path)
    }

    static func validate(_ data: Data, path: String) throws(CheckpointError) {
        let data = data.startIndex == 0 ? data : Data(data)
        let size = UInt64(data.count)
        func corrupt(_ reason: String) -> CheckpointError { .corruptArchive(path: path, reason: reason) }
        func read(_ offset: UInt64, _ width: Int) -> UInt64? {
            guard offset <= size, UInt64(width) <= size - offset else { return nil }
            var value: UInt64 = 0
            for i in 0..<width { value |= UInt64(data[Int(offset) + i]) << (8 * UInt64(i)) }
            return value
        }

        // The end-of-central-directory record: the last signature found scanning backwards, as
        // ZIPFoundation scans.
        guard size >= 22 else { throw corrupt("file too short for a zip directory") }
        var eocd: UInt64?
        var candidate = size - 22
        while true {
            if read(candidate, 4) == 0x0605_4B50 { eocd = candidate; break }
            if candidate == 0 { break }
            candidate -= 1
        }
        guard let eocd else { throw corrupt("no end-of-central-directory record") }
        var entryCount = read(eocd + 10, 2)!
        var directorySize = read(eocd + 12, 4)!
        var directoryOffset = read(eocd + 16, 4)!
        if eocd >= 20 + 56, read(eocd - 20, 4) == 0x0706_4B50, read(eocd - 76, 4) == 0x0606_4B50 {
            entryCount = read(eocd - 76 + 32, 8)!
            directorySize = read(eocd - 76 + 40, 8)!
            directoryOffset = read(eocd - 76 + 48, 8)!
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset, entryCount <= size / 46 else {
            throw corrupt("central directory (offset \(directoryOffset), size \(directorySize), \(entryCount) entries) lies outside the file")
        }

        var position = directoryOffset
        for _ in 0..<entryCount {
            guard read(position, 4) == 0x0201_4B50,
                let compressedSize32 = read(position + 20, 4), let uncompressedSize32 = read(position + 24, 4),
                let nameLength = read(position + 28, 2), let extraLength = read(position + 30, 2),
                let commentLength = read(position + 32, 2), let localOffset32 = read(position + 42, 4)
            else { throw corrupt("bad central directory entry at byte \(position)") }
            // ZIP64 extra field (id 1): holds, in this order, only the fields saturated at 0xFFFFFFFF.
            var fields = [uncompressedSize32, compressedSize32, localOffset32]
            var extra = position + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd, let id = read(extra, 2), let length = read(extra + 2, 2) {
                if id == 1 {
                    var field = extra + 4
                    for i in fields.indices where fields[i] == 0xFFFF_FFFF {
                        guard field + 8 <= extraEnd, let wide = read(field, 8) else { throw corrupt("truncated ZIP64 extra field") }
                        fields[i] = wide
                        field += 8
                    }
                }
                extra += 4 + length
            }
            let (uncompressedSize, compressedSize, localOffset) = (fields[0], fields[1], fields[2])
            guard localOffset <= size, compressedSize <= size, uncompressedSize <= size,
                read(localOffset, 4) == 0x0403_4B50,
                let localName = read(localOffset + 26, 2), let localExtra = read(localOffset + 28, 2),
                localOffset + 30 + localName + localExtra + compressedSize <= size
            else { throw corrupt("entry at directory byte \(position) points outside the file") }
            position = extraEnd + commentLength
            guard position <= size else { throw corrupt("central directory runs past the end of the file") }
        }
    }
}
