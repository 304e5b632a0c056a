import Foundation
import Testing
import TensorCore
import VideoIO

/// A file with `text` in a fresh directory; returns its path.
func writeDatasetFile(_ text: String, name: String = "list.txt", in directory: URL = Fixture.directory()) -> String {
    let url = directory.appendingPathComponent(name)
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8))
    return url.path
}

/// The dataset error `body` throws, or nil.
func datasetError(_ body: () throws -> Void) -> DatasetError? {
    do {
        try body()
        return nil
    } catch {
        return error as? DatasetError
    }
}

@Suite struct DatasetTests {
    @Test func pathLabelListResolvesPathsAndSkipsBlankLines() throws {
        let list = writeDatasetFile("a/b.mp4 3\n\n/abs/c.mp4 0\r\nwith space.mp4  12\n")
        // The absolute entry leaves the root, which this list is allowed to do.
        let dataset = try VideoDataset.pathLabelList(at: list, root: "/data", allowingPathsOutsideRoot: true)
        #expect(dataset.items.map(\.path) == ["/data/a/b.mp4", "/abs/c.mp4", "/data/with space.mp4"])
        #expect(dataset.items.map(\.label) == [3, 0, 12])
        #expect(dataset.items.allSatisfy { $0.media == .video })
        #expect(dataset.classCount == 13)
        #expect(dataset.badItemPolicy == .skip)
    }

    @Test func malformedListLinesThrowWithTheirLineNumber() {
        let cases: [(text: String, line: Int)] = [
            ("a.mp4 1\nb.mp4 x\n", 2),  // label not an integer
            ("a.mp4 1\n\n\nlonely.mp4\n", 4),  // no label
            ("a.mp4 -1\n", 1),  // negative label
        ]
        for (text, line) in cases {
            let list = writeDatasetFile(text)
            let error = datasetError { _ = try VideoDataset.pathLabelList(at: list) }
            #expect(error?.line == line, "\(text.debugDescription)")
            #expect(error?.path == list)
            #expect(error?.description.hasPrefix("\(list):\(line): ") == true)
        }
        let missing = Fixture.directory().appendingPathComponent("absent.txt").path
        #expect(throws: DatasetError.unreadable(path: missing, reason: "no such file")) {
            try VideoDataset.pathLabelList(at: missing)
        }
        let blank = writeDatasetFile("\n  \n")
        #expect(throws: DatasetError.empty(path: blank)) { try VideoDataset.pathLabelList(at: blank) }
    }

    @Test func frameNamePatternsFollowPythonAndPrintfStyles() {
        #expect(FrameNamePattern.mmaction.fileName(frame: 0) == "img_00001.jpg")
        #expect(FrameNamePattern("{:06d}.png", startIndex: 0).fileName(frame: 41) == "000041.png")
        #expect(FrameNamePattern("frame{}.jpg", startIndex: 0).fileName(frame: 7) == "frame7.jpg")
        #expect(FrameNamePattern("img_%05d.jpg").fileName(frame: 99) == "img_00100.jpg")
        #expect(FrameNamePattern("x_{:03d}.png").fileName(frame: 12344) == "x_12345.png")
    }

    @Test func frameListReadsDirectoryCountAndLabel() throws {
        let list = writeDatasetFile("clips/v1 30 2\nclips/v2 8 0\n")
        let pattern = FrameNamePattern("{:05d}.png")
        let dataset = try VideoDataset.frameList(at: list, root: "/frames", pattern: pattern, badItemPolicy: .throw)
        #expect(dataset.items == [
            DatasetItem(path: "/frames/clips/v1", label: 2, media: .frameFolder(frameCount: 30, pattern: pattern)),
            DatasetItem(path: "/frames/clips/v2", label: 0, media: .frameFolder(frameCount: 8, pattern: pattern)),
        ])
        #expect(dataset.badItemPolicy == .throw)
        let bad = writeDatasetFile("clips/v1 30 2\nclips/v2 0 1\n")
        #expect(datasetError { _ = try VideoDataset.frameList(at: bad) }?.line == 2)
    }

    @Test func frameFolderClipsDecodeImagesThroughTheReader() throws {
        let directory = Fixture.directory()
        let clipFolder = directory.appendingPathComponent("clip")
        try FileManager.default.createDirectory(at: clipFolder, withIntermediateDirectories: true)
        for k in 0..<4 {
            let pixels = [UInt8](repeating: UInt8(40 * k + 10), count: 8 * 6 * 3)
            try PNGEncoder.writeRGB(
                width: 8, height: 6, pixels: pixels, to: clipFolder.appendingPathComponent(String(format: "img_%05d.png", k + 1)))
        }
        let list = writeDatasetFile("clip 4 5\n", in: directory)
        let dataset = try VideoDataset.frameList(at: list, root: directory.path, pattern: FrameNamePattern("img_{:05d}.png"))
        var g = RandomGenerator(seed: 0)
        let clip = try dataset.items[0].loadClip(
            sampler: UniformSampler(numFrames: 4), size: FrameSize(width: 8, height: 6), using: &g)
        #expect(clip.shape == [4, 3, 6, 8])
        for k in 0..<4 {
            #expect(clip[k, 0, 0, 0] == Float(40 * k + 10) / 255)
            #expect(clip[k, 2, 5, 7] == Float(40 * k + 10) / 255)
        }
    }

    @Test func ssv2TemplatesLoseTheirBracketsBeforeLookup() throws {
        #expect(SSv2.className(template: "Putting [something] on [something]") == "Putting something on something")
        let directory = Fixture.directory()
        let labels = writeDatasetFile(
            #"{"Pushing something from left to right": "0", "Putting something on a surface": "1"}"#,
            name: "labels.json", in: directory)
        let annotations = writeDatasetFile(
            #"""
            [{"id": "12", "label": "putting a cup on a table", "template": "Putting [something] on a surface",
              "placeholders": ["a cup"]},
             {"id": 7, "label": "pushing a pen", "template": "Pushing [something] from left to right"}]
            """#, name: "train.json", in: directory)
        let dataset = try VideoDataset.somethingSomethingV2(labels: labels, annotations: annotations, videoRoot: "/ssv2")
        #expect(dataset.items == [DatasetItem(path: "/ssv2/12.webm", label: 1), DatasetItem(path: "/ssv2/7.webm", label: 0)])
        #expect(dataset.classNames == ["Pushing something from left to right", "Putting something on a surface"])

        let unknown = writeDatasetFile(#"[{"id": "3", "template": "Spinning [something]"}]"#, name: "u.json", in: directory)
        #expect(throws: DatasetError.unknownTemplate(path: unknown, id: "3", template: "Spinning [something]")) {
            try VideoDataset.somethingSomethingV2(labels: labels, annotations: unknown, videoRoot: "/ssv2")
        }
        let broken = writeDatasetFile("[{", name: "b.json", in: directory)
        #expect(throws: DatasetError.self) {
            try VideoDataset.somethingSomethingV2(labels: labels, annotations: broken, videoRoot: "/ssv2")
        }
    }

    @Test func classFoldersAreSortedAndFilteredByExtension() throws {
        let root = Fixture.directory()
        for (folder, files) in [("walk", ["b.mp4", "a.AVI", "notes.txt", ".hidden.mp4"]), ("jump", ["x.mkv"]), ("idle", [])] {
            let url = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            for f in files { _ = writeDatasetFile("", name: f, in: url) }
        }
        _ = writeDatasetFile("", name: "stray.mp4", in: root)
        let dataset = try VideoDataset.classFolders(root: root.path)
        #expect(dataset.classNames == ["idle", "jump", "walk"])
        #expect(dataset.items.map { ($0.path as NSString).lastPathComponent } == ["x.mkv", "a.AVI", "b.mp4"])
        #expect(dataset.items.map(\.label) == [1, 2, 2])
        #expect(dataset.classCount == 3)
    }
}

/// A list's entries stay inside its root unless allowed.
@Suite struct ListContainmentTests {
    @Test func absoluteAndClimbingPathsLeaveTheRootOnlyWhenAllowed() throws {
        let folder = Fixture.directory().appendingPathComponent("containment-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (text, line) in [("a.mp4 0\n/etc/passwd 1\n", 2), ("a.mp4 0\nb/../../secret.mp4 1\n", 2)] {
            let list = folder.appendingPathComponent("list.txt").path
            try text.write(toFile: list, atomically: true, encoding: .utf8)
            let error = #expect(throws: DatasetError.self) { _ = try VideoDataset.pathLabelList(at: list, root: folder.path) }
            guard case .malformedLine(_, let number, _, let reason)? = error else {
                Issue.record("expected a malformed line, got \(String(describing: error))")
                continue
            }
            #expect(number == line && reason.contains("data root"))
            #expect(try VideoDataset.pathLabelList(at: list, root: folder.path, allowingPathsOutsideRoot: true).count == 2)
            // Without a root there is nothing to leave.
            #expect(try VideoDataset.pathLabelList(at: list).count == 2)
        }
        let inside = folder.appendingPathComponent("inside.txt").path
        try "x/../a.mp4 0\n./b/c.mp4 1\n".write(toFile: inside, atomically: true, encoding: .utf8)
        #expect(try VideoDataset.pathLabelList(at: inside, root: folder.path).count == 2)
    }
}
