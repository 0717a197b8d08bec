// Apache Avro Java as a test oracle for avrobridge: reads one JSON request per line on stdin,
// answers one JSON line on stdout. Run by tests/java_oracle/oracle.py as a single-file program.
//
//   {"op":"resolve","writer":TEXT,"reader":TEXT,"data":[BASE64...]}
//     -> {"results":[{"ok":BASE64} | {"error":"Class: message"}, ...]}
//        each datum decoded with Java's resolving decoder (GenericDatumReader(writer, reader))
//        and encoded again with the reader schema, keeping the reader union branch Java chose
//   {"op":"compat","writer":TEXT,"reader":TEXT}
//     -> {"compatible":BOOL,"incompatibilities":[[TYPE,LOCATION,MESSAGE], ...]}
//        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer)
//
// A schema Java refuses answers {"schema_error": "..."}; any other failure of a whole request
// {"error": "..."}.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.ResolvingDecoder;

public class AvroOracle {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A union value with the reader branch the resolving decoder chose. */
  record Tagged(int index, Object value) {}

  /** Keeps the reader union branch of every union value it reads, and map entries in the
   * order they came (so they are written back in that order). */
  static final class BranchKeepingReader extends GenericDatumReader<Object> {
    BranchKeepingReader(Schema writer, Schema reader) {
      super(writer, reader, slowData());
    }

    /** The fast reader (on by default since 1.10) skips the overrides below; both follow
     * {@code Resolver}, so the choices they make are the same. */
    private static GenericData slowData() {
      GenericData data = new GenericData();
      data.setFastReaderEnabled(false);
      return data;
    }

    @Override
    protected Object newMap(Object old, int size) {
      return new LinkedHashMap<Object, Object>();
    }

    @Override
    protected Object readWithoutConversion(Object old, Schema expected, ResolvingDecoder in)
        throws IOException {
      if (expected.getType() == Schema.Type.UNION) {
        int index = in.readIndex();
        return new Tagged(index, read(null, expected.getTypes().get(index), in));
      }
      return super.readWithoutConversion(old, expected, in);
    }
  }

  /** Writes union values in the branch the reader kept. */
  static final class BranchKeepingWriter extends GenericDatumWriter<Object> {
    BranchKeepingWriter(Schema schema) {
      super(schema, GenericData.get());
    }

    @Override
    protected void writeWithoutConversion(Schema schema, Object datum, Encoder out)
        throws IOException {
      if (schema.getType() == Schema.Type.UNION && datum instanceof Tagged tagged) {
        out.writeIndex(tagged.index());
        write(schema.getTypes().get(tagged.index()), tagged.value(), out);
        return;
      }
      super.writeWithoutConversion(schema, datum, out);
    }
  }

  public static void main(String[] args) throws IOException {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      ObjectNode answer;
      try {
        answer = handle(JSON.readTree(line));
      } catch (Exception | StackOverflowError e) {
        answer = JSON.createObjectNode().put("error", describe(e));
      }
      out.println(JSON.writeValueAsString(answer));
    }
  }

  private static String describe(Throwable e) {
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static ObjectNode handle(JsonNode request) throws IOException {
    ObjectNode answer = JSON.createObjectNode();
    Schema writer;
    Schema reader;
    try {
      writer = new Schema.Parser().parse(request.get("writer").asText());
      reader = new Schema.Parser().parse(request.get("reader").asText());
    } catch (Exception | StackOverflowError e) {
      return answer.put("schema_error", describe(e));
    }
    switch (request.get("op").asText()) {
      case "resolve" -> {
        ArrayNode results = answer.putArray("results");
        BranchKeepingReader datumReader = new BranchKeepingReader(writer, reader);
        BranchKeepingWriter datumWriter = new BranchKeepingWriter(reader);
        for (JsonNode item : request.get("data")) {
          byte[] data = Base64.getDecoder().decode(item.asText());
          ObjectNode result = results.addObject();
          try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, null);
            Object value = datumReader.read(null, decoder);
            if (!decoder.isEnd()) {
              throw new IOException("bytes left after the datum");
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
            datumWriter.write(value, encoder);
            encoder.flush();
            result.put("ok", Base64.getEncoder().encodeToString(bytes.toByteArray()));
          } catch (Exception | StackOverflowError e) {
            result.put("error", describe(e));
          }
        }
      }
      case "compat" -> {
        SchemaCompatibility.SchemaCompatibilityResult result =
            SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult();
        answer.put(
            "compatible",
            result.getCompatibility()
                == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        ArrayNode found = answer.putArray("incompatibilities");
        for (SchemaCompatibility.Incompatibility i : result.getIncompatibilities()) {
          found.addArray().add(i.getType().name()).add(i.getLocation()).add(i.getMessage());
        }
      }
      default -> throw new IllegalArgumentException("unknown op");
    }
    return answer;
  }
}
