package avrobridge.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The loop a JVM developer would write to bridge Confluent-framed Avro from one topic to
 * another in a target schema: poll up to 5,000 records, resolve each with
 * GenericDatumReader(writer, reader), write it with GenericDatumWriter(reader) behind the
 * target's 5-byte header, send, commitAsync. Writer schemas come from the registry by id
 * (cached); the target schema is registered under the sink subject once.
 *
 * <p>Runs until every partition of the source reaches the end offsets seen at start, then
 * prints one JSON line: records, seconds in the loop (start-up excluded), process CPU.
 *
 * <p>Usage: BridgeLoop BOOTSTRAP REGISTRY_URL SOURCE SINK GROUP READER_SCHEMA_FILE [flush]
 * ("flush" flushes the producer before each commit: at-least-once; without it the loop
 * commits as soon as records are sent, as many hand-written loops do).
 */
public final class BridgeLoop {
  private static final ObjectMapper JSON = new ObjectMapper();
  // HTTP/1.1: the default HTTP/2 client asks http:// servers for an h2c upgrade.
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  public static void main(String[] args) throws Exception {
    long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
    String bootstrap = args[0];
    String registry = args[1];
    String source = args[2];
    String sink = args[3];
    String group = args[4];
    Schema reader = new Schema.Parser().parse(new String(
        java.nio.file.Files.readAllBytes(java.nio.file.Path.of(args[5])), "UTF-8"));
    boolean flushBeforeCommit = args.length > 6 && args[6].equals("flush");

    int targetId = register(registry, sink + "-value", reader);
    byte[] header = ByteBuffer.allocate(5).put((byte) 0).putInt(targetId).array();
    GenericDatumWriter<GenericRecord> writer = new GenericDatumWriter<>(reader);
    Map<Integer, GenericDatumReader<GenericRecord>> readers = new HashMap<>();

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long records = 0;
    long loopStart;
    long cpuStart;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(source)) {
        partitions.add(new TopicPartition(source, info.partition()));
      }
      consumer.assign(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      loopStart = System.nanoTime();
      cpuStart = os.getProcessCpuTime();
      BinaryDecoder decoder = null;
      BinaryEncoder encoder = null;
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      while (!done(consumer, ends)) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          byte[] value = r.value();
          int id = ByteBuffer.wrap(value, 1, 4).getInt();
          GenericDatumReader<GenericRecord> datumReader = readers.get(id);
          if (datumReader == null) {
            datumReader = new GenericDatumReader<>(fetch(registry, id), reader);
            readers.put(id, datumReader);
          }
          decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, decoder);
          GenericRecord record = datumReader.read(null, decoder);
          out.reset();
          out.write(header);
          encoder = EncoderFactory.get().binaryEncoder(out, encoder);
          writer.write(record, encoder);
          encoder.flush();
          producer.send(new ProducerRecord<>(
              sink, r.partition(), r.timestamp(), r.key(), out.toByteArray(), r.headers()));
          records++;
        }
        if (!batch.isEmpty()) {
          if (flushBeforeCommit) {
            producer.flush();
          }
          consumer.commitAsync();
        }
      }
      producer.flush();
      consumer.commitSync();
    }
    double seconds = (System.nanoTime() - loopStart) / 1e9;
    double loopCpu = (os.getProcessCpuTime() - cpuStart) / 1e9;
    double startup = (System.currentTimeMillis() - jvmStart) / 1e3 - seconds;
    System.out.printf(
        "{\"records\": %d, \"loop_seconds\": %.3f, \"loop_cpu_seconds\": %.3f, "
            + "\"startup_seconds\": %.3f}%n",
        records, seconds, loopCpu, startup);
  }

  private static boolean done(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static Schema fetch(String registry, int id) throws Exception {
    HttpResponse<String> response = HTTP.send(
        HttpRequest.newBuilder(URI.create(registry + "/schemas/ids/" + id)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("schema id " + id + ": HTTP " + response.statusCode());
    }
    return new Schema.Parser().parse(JSON.readTree(response.body()).get("schema").asText());
  }

  private static int register(String registry, String subject, Schema schema) throws Exception {
    String body = JSON.writeValueAsString(Map.of("schema", schema.toString()));
    HttpResponse<String> response = HTTP.send(
        HttpRequest.newBuilder(URI.create(registry + "/subjects/" + subject + "/versions"))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("register " + subject + ": HTTP " + response.statusCode()
          + " " + response.body());
    }
    return JSON.readTree(response.body()).get("id").asInt();
  }
}
