// Prints, one per line, "<name> <hex>" for values written by Kafka's Java primitive
// serializers, then reads hex values given on stdin back with the deserializers.
// Run as a single-file program: java -cp '<kafka jars>/*' Primitives.java
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.HexFormat;
import java.util.UUID;
import org.apache.kafka.common.serialization.*;

public class Primitives {
    static String hex(byte[] b) { return HexFormat.of().formatHex(b); }

    public static void main(String[] args) throws Exception {
        String t = "t";
        System.out.println("string " + hex(new StringSerializer().serialize(t, "héllo, 東京")));
        System.out.println("short " + hex(new ShortSerializer().serialize(t, (short) -12345)));
        System.out.println("int " + hex(new IntegerSerializer().serialize(t, -2147483648)));
        System.out.println("long " + hex(new LongSerializer().serialize(t, 9007199254740993L)));
        System.out.println("float " + hex(new FloatSerializer().serialize(t, 1.5f)));
        System.out.println("double " + hex(new DoubleSerializer().serialize(t, Double.NaN)));
        System.out.println("double2 " + hex(new DoubleSerializer().serialize(t, -0.1)));
        System.out.println("boolean " + hex(new BooleanSerializer().serialize(t, true)));
        System.out.println("uuid " + hex(new UUIDSerializer().serialize(t, UUID.fromString("0f8fad5b-d9cb-469f-a165-70867728950e"))));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.trim().split(" ");
            byte[] data = HexFormat.of().parseHex(parts[1]);
            Object value = switch (parts[0]) {
                case "string" -> new StringDeserializer().deserialize(t, data);
                case "short" -> new ShortDeserializer().deserialize(t, data);
                case "int" -> new IntegerDeserializer().deserialize(t, data);
                case "long" -> new LongDeserializer().deserialize(t, data);
                case "float" -> new FloatDeserializer().deserialize(t, data);
                case "double" -> new DoubleDeserializer().deserialize(t, data);
                case "boolean" -> new BooleanDeserializer().deserialize(t, data);
                case "uuid" -> new UUIDDeserializer().deserialize(t, data);
                default -> "?";
            };
            System.out.println("read " + parts[0] + " " + value);
        }
    }
}
