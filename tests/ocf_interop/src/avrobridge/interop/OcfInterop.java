package avrobridge.interop;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HexFormat;
import org.apache.avro.Schema;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/**
 * The Apache Avro Java side of avrobridge's container-file interop tests. Runs the jobs of a
 * tab-separated file, one per line, in one JVM:
 *
 * <pre>
 * write SCHEMA.avsc DATUMS OUT.avro CODEC SYNC_INTERVAL   records in, DataFileWriter out
 * read  IN.avro DATUMS_OUT META_OUT                       DataFileReader in, records out
 * </pre>
 *
 * DATUMS files hold records as their Avro binary encoding, each after its 4-byte big-endian
 * length. META_OUT gets one "key TAB hex(value)" line per metadata entry of the file read.
 */
public final class OcfInterop {
  private OcfInterop() {}

  public static void main(String[] args) throws IOException {
    for (String line : Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split("\t");
      switch (f[0]) {
        case "write" -> write(f[1], f[2], f[3], f[4], Integer.parseInt(f[5]));
        case "read" -> read(f[1], f[2], f[3]);
        default -> throw new IllegalArgumentException("unknown job: " + line);
      }
    }
  }

  static void write(String schemaPath, String datums, String out, String codec, int interval)
      throws IOException {
    Schema schema = new Schema.Parser().parse(new File(schemaPath));
    GenericDatumReader<Object> reader = new GenericDatumReader<>(schema);
    try (DataInputStream in =
            new DataInputStream(new BufferedInputStream(new FileInputStream(datums)));
        DataFileWriter<Object> writer = new DataFileWriter<>(new GenericDatumWriter<>(schema))) {
      writer.setCodec(CodecFactory.fromString(codec));
      writer.setSyncInterval(interval);
      writer.setMeta("written.by", "Apache Avro Java");
      writer.create(schema, new File(out));
      BinaryDecoder decoder = null;
      while (true) {
        int n;
        try {
          n = in.readInt();
        } catch (EOFException end) {
          break;
        }
        byte[] datum = new byte[n];
        in.readFully(datum);
        decoder = DecoderFactory.get().binaryDecoder(datum, decoder);
        writer.append(reader.read(null, decoder));
      }
    }
  }

  static void read(String path, String datumsOut, String metaOut) throws IOException {
    try (DataFileReader<Object> reader =
            new DataFileReader<>(new File(path), new GenericDatumReader<>());
        DataOutputStream out =
            new DataOutputStream(new BufferedOutputStream(new FileOutputStream(datumsOut)));
        PrintWriter meta = new PrintWriter(metaOut, StandardCharsets.UTF_8)) {
      GenericDatumWriter<Object> writer = new GenericDatumWriter<>(reader.getSchema());
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      BinaryEncoder encoder = null;
      for (Object record : reader) {
        buf.reset();
        encoder = EncoderFactory.get().binaryEncoder(buf, encoder);
        writer.write(record, encoder);
        encoder.flush();
        out.writeInt(buf.size());
        buf.writeTo(out);
      }
      for (String key : reader.getMetaKeys()) {
        meta.println(key + "\t" + HexFormat.of().formatHex(reader.getMeta(key)));
      }
    }
  }
}
